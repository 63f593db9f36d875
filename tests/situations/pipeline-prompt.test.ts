// Issues 10 and 11: `tessera generate --pipeline DIR --prompt P` from prompt text to frames (`video`), against the whole
// WanPipeline run with the real diffusers and transformers in float64 (tests/fixtures/situations/make_cases.py), on a
// small pipeline assembled from fixture folders: a non-empty --negative-prompt with Wan's UniPC read from the folder at
// a non-square size; guidance 1 (no negative prompt, no CFG batch) with the default max_sequence_length 512; a prompt
// truncated at --max-sequence-length 6 for a batch of 2 latents with the default negative prompt "".
// Measured when written: 3.0e-7, 3.5e-7, 3.8e-7 (held to 1e-4 like the goldens).
import { describeSituations } from './run-case.js';

describeSituations('tessera generate --pipeline --prompt situations (vs WanPipeline float64)', ['wan_pipe_neg_unipc_32x48', 'wan_pipe_g1_default_msl', 'wan_pipe_b2_trunc']);
