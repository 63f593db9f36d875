// Issue 11's encode contract against WanPipeline._get_t5_prompt_embeds run with the real diffusers and transformers
// in float64 (tests/fixtures/situations/make_cases.py): without --max-sequence-length the embeddings are padded to
// WanPipeline's default 512 (encode_prompt's own default is 226), and a prompt with HTML entities, a newline and runs
// of spaces is cleaned as the pipeline's prompt_clean does before tokenizing. Measured when written: 2.5e-7, 4.7e-7.
import { describeSituations } from './run-case.js';

describeSituations('tessera encode situations (vs WanPipeline float64)', ['umt5_default_msl', 'umt5_cleaned_prompt']);
