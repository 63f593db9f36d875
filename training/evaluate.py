"""Judges the trained pipeline through diffusers' own WanPipeline (issue 12's bar).

For every (colour, shape, direction) prompt and each seed, runs WanPipeline at 32x32, 9 frames, output_type="np"
with the pipeline's default sampler settings (num_inference_steps 50, guidance_scale 5.0, negative prompt "",
max_sequence_length 512; --steps / --max-sequence-length to vary them), one torch.Generator(seed) per prompt, and
applies judge.py to `video`. Prints the pass rates for the seen pairs and the held-out pairs and writes a JSON
report. Exit status 1 when the seen pairs' rate is below --bar (default 0.9) at any seed.

  PYTHONPATH=/work/diffusers/src python3 training/evaluate.py --pipeline models/tessera-shapes
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from judge import judge  # noqa: E402


def run(pipe, triples, seed, steps, max_len, guidance, chunk=28):
    prompts = [data.prompt_for(*t) for t in triples]
    videos = []
    for i in range(0, len(prompts), chunk):
        ps = prompts[i:i + chunk]
        gens = [torch.Generator().manual_seed(seed) for _ in ps]  # each prompt as if run alone at this seed
        out = pipe(prompt=ps, negative_prompt=[""] * len(ps), height=data.HEIGHT, width=data.WIDTH,
                   num_frames=data.NUM_FRAMES, num_inference_steps=steps, guidance_scale=guidance,
                   generator=gens, output_type="np", max_sequence_length=max_len)
        videos.append(np.asarray(out.frames))
    return prompts, np.concatenate(videos)


def vae_check(vae, seed=123, n_per=1):
    """Reconstructs fresh ground-truth clips of every triple (seen and held-out) through encode (mean) + decode
    and judges them: how much of the bar the VAE alone allows. Returns (pass rate, mean L1 in pixels)."""
    rng = np.random.default_rng(seed)
    triples = data.all_triples() * n_per
    clips = np.stack([data.render(data.sample_spec(rng, t)) for t in triples])
    with torch.no_grad():
        x = torch.from_numpy(clips).permute(0, 4, 1, 2, 3) * 2 - 1
        y = vae.decode(vae.encode(x).latent_dist.mean).sample
    rec = ((y + 1) / 2).clamp(0, 1).permute(0, 2, 3, 4, 1).numpy()
    passed = sum(judge(r[None], t[0], t[2])[0]["pass"] for r, t in zip(rec, triples))
    return passed / len(triples), float(np.abs(rec - clips).mean())


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pipeline", default="models/tessera-shapes")
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--guidance", type=float, default=5.0)
    ap.add_argument("--max-sequence-length", type=int, default=512)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--bar", type=float, default=0.9)
    ap.add_argument("--report", default=None, help="JSON report path")
    ap.add_argument("--save-video", default=None, help="write the seed-0 videos to this .npy")
    ap.add_argument("--vae-only", action="store_true", help="only judge VAE reconstructions of ground truth")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    from diffusers import AutoencoderKLWan, WanPipeline

    if args.vae_only:
        rate, l1 = vae_check(AutoencoderKLWan.from_pretrained(os.path.join(args.pipeline, "vae")))
        print(f"VAE reconstructions of ground truth: judge pass {rate:.3f}, L1 {l1:.4f} (pixels)")
        return

    pipe = WanPipeline.from_pretrained(args.pipeline, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    report = {"pipeline": args.pipeline, "steps": args.steps, "guidance_scale": args.guidance,
              "max_sequence_length": args.max_sequence_length, "seeds": {}}
    ok = True
    for seed in [int(s) for s in args.seeds.split(",")]:
        t0 = time.time()
        res = {}
        for name, triples in [("seen", data.seen_triples()), ("held_out", data.held_out_triples())]:
            prompts, video = run(pipe, triples, seed, args.steps, args.max_sequence_length, args.guidance)
            if args.save_video and seed == 0:
                np.save(args.save_video.replace(".npy", f"_{name}.npy"), video)
            rows = []
            for t, p, v in zip(triples, prompts, video):
                r = judge(v[None], t[0], t[2])[0]
                rows.append({"prompt": p, "pass": r["pass"], "colour": r["colour"], "direction": r["direction"],
                             "reason": r["reason"], "cover": [r["cover_min"], r["cover_max"]],
                             "displacement": r["displacement"]})
            rate = sum(r["pass"] for r in rows) / len(rows)
            res[name] = {"rate": rate, "passed": sum(r["pass"] for r in rows), "total": len(rows), "rows": rows}
            fails = [f"{r['prompt']} -> {r['colour']} {r['direction']} {r['reason']}" for r in rows if not r["pass"]]
            print(f"seed {seed} {name}: {res[name]['passed']}/{len(rows)} = {rate:.3f}", flush=True)
            for f in fails[:40]:
                print("   fail:", f)
        report["seeds"][seed] = res
        print(f"seed {seed}: {time.time()-t0:.0f}s", flush=True)
        ok = ok and res["seen"]["rate"] >= args.bar
    if args.report:
        with open(args.report, "w") as f:
            json.dump(report, f, indent=1)
    print("BAR", "PASS" if ok else "FAIL", f"(seen pairs >= {args.bar} at every seed)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
