// Issues 3 and 9's held-out kind of sampler case ("other sampler settings"; UniPC and DPM-Solver read from
// scheduler_config.json as diffusers' from_pretrained reads it): `tessera generate` with no --scheduler on a folder
// whose scheduler/ holds the case's config, against WanPipeline's and DiTPipeline's loops run with the real diffusers
// in float64 (tests/fixtures/situations/make_cases.py): UniPC bh1 order 3, order 3 with flow_shift 5 and a disabled
// corrector at batch 2, flow-match Euler from a config with another class's keys at guidance 1, DPM-Solver++ on flow
// sigmas, DPM-Solver++ karras order 3, dpmsolver heun to sigma_min, DDIM trailing v-prediction with clipping, DDIM
// linspace without CFG, UniPC on an epsilon model; and `--scheduler DPMSolverMultistepScheduler` on a DDIM folder and
// on Wan's UniPC folder (X.from_config of the folder's config: shared values kept, UniPC's bh2 read as midpoint); and
// Latte sampled as LattePipeline does ([negative; prompt] CFG on all channels, learned sigma dropped; DDIM at batch 2,
// DPM-Solver++ without CFG on 1 frame). Measured when written: 1.5e-7 … 2.3e-6 (held to 1e-4).
import { describeSituations } from './run-case.js';

const CASES = [
  'wan_unipc_bh1_o3',
  'wan_unipc_b2_o3_shift5',
  'wan_euler_g1',
  'wan_dpmpp_flow',
  'dit_dpmpp_karras_o3',
  'dit_dpm_heun_sigma_min',
  'dit_ddim_trailing_v_clip',
  'dit_ddim_linspace_g1',
  'dit_unipc_eps_6x6',
  'dit_ddim_folder_as_dpmpp',
  'wan_unipc_folder_as_dpmpp',
  'latte_ddim_b2',
  'latte_dpmpp_g1',
];

describeSituations('held-out sampler situations (tessera generate, scheduler from the folder, vs diffusers float64)', CASES);
