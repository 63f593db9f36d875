"""Fine-tunes the VAE's decoder (post_quant_conv + decoder) of a saved tessera-shapes pipeline with the encoder
frozen. The transformer is trained on the frozen encoder's latents (train.py phase C), so a better decoder for the
same encoder keeps the pipeline consistent; this can run while phase C runs. latents_mean / latents_std are kept.

  PYTHONPATH=/work/diffusers/src python3 training/finetune_decoder.py --pipeline models/tessera-shapes --steps 400
Writes PIPELINE/vae (every --save-every steps) unless --out-vae names another folder.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
from train import decode_unclamped, lr_at, to_vae_input  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pipeline", default="models/tessera-shapes")
    ap.add_argument("--out-vae", default=None)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--seed", type=int, default=100)
    ap.add_argument("--save-every", type=int, default=50)
    args = ap.parse_args()
    torch.set_num_threads(1)
    from diffusers import AutoencoderKLWan

    out = args.out_vae or os.path.join(args.pipeline, "vae")
    vae = AutoencoderKLWan.from_pretrained(os.path.join(args.pipeline, "vae"))
    for p in vae.parameters():
        p.requires_grad_(False)
    params = list(vae.post_quant_conv.parameters()) + list(vae.decoder.parameters())
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.Adam(params, lr=args.lr)
    rng = np.random.default_rng(args.seed)
    gen = torch.Generator().manual_seed(args.seed)
    t0, ema = time.time(), None
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, 10)
        clips, _ = data.make_batch(rng, 3 * args.batch if step % 2 == 0 else args.batch)
        if step % 2 == 0:  # single random frames: cheap, and where colour is learnt
            pick = rng.integers(0, clips.shape[1], size=clips.shape[0])
            clips = clips[np.arange(clips.shape[0]), pick][:, None]
        x = to_vae_input(clips)
        with torch.no_grad():
            m = vae.encode(x).latent_dist.mean
        y = decode_unclamped(vae, m + 0.05 * torch.randn(m.shape, generator=gen))
        w = 1.0 + 4.0 * (x.amax(dim=1, keepdim=True) > -0.99).float()
        loss = (((y - x) ** 2 + (y - x).abs()) * w).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        fg = x.amax(dim=1) > -0.99
        fg_err = (y.clamp(-1, 1) - x).abs().mean(dim=1)[fg].mean().item() / 2
        ema = fg_err if ema is None else 0.9 * ema + 0.1 * fg_err
        if step % 10 == 0 or step == args.steps - 1:
            print(f"[decoder] step {step:4d} loss {loss.item():.4f} on shapes {fg_err:.3f} (avg {ema:.3f}) "
                  f"{time.time()-t0:.0f}s", flush=True)
        if (step + 1) % args.save_every == 0 or step == args.steps - 1:
            vae.save_pretrained(out)
    print(f"[decoder] done in {time.time()-t0:.0f}s; on-shape error (avg) {ema:.3f}", flush=True)


if __name__ == "__main__":
    main()
