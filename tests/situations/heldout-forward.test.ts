// Issue 3's held-out kind of forward case ("odd sizes, batch > 1, BF16/F16 weights"): the small Wan, DiT and Latte
// fixture models on new shapes, batches, fractional per-item timesteps, DiT's null class label and weights stored as
// F16 / BF16, against the real diffusers in float64 (tests/fixtures/situations/make_cases.py), through `tessera
// forward` with no flags beyond the case's. Measured when written: 3.5e-7 … 2.6e-6 (held to 1e-4 like the goldens).
import { describeSituations } from './run-case.js';

const CASES = ['wan_fwd_b2_odd', 'wan_fwd_bf16', 'wan_fwd_f16_b3', 'dit_fwd_f16_b3_null', 'dit_fwd_bf16_12', 'latte_fwd_f16_b2', 'latte_fwd_f1'];

describeSituations('held-out forward situations (tessera forward vs diffusers float64)', CASES);
