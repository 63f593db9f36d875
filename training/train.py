"""Trains tessera's miniature Wan2.1 pipeline ("tessera-shapes", issue 12) on procedural shape clips, on CPU.

Pipeline = WanPipeline's own classes and folder layout (diffusers/transformers save_pretrained, float32):
  tokenizer/     a Unigram tokenizer.json (T5/UMT5 style) whose pieces are the words of the vocabulary
  text_encoder/  UMT5EncoderModel at its seeded random initialisation (frozen)
  vae/           AutoencoderKLWan (Wan2.1's class, smaller: base_dim 16, dim_mult [1,2,4] (4x space), temporal
                 down [T,T] (4x time), z_dim 16: latents [16, 3, 8, 8] for 9 frames of 32x32), trained to
                 reconstruct the clips (weighted MSE on decode(mean + 0.05 noise), small L2 on the mean)
  transformer/   WanTransformer3DModel trained with flow matching as Wan is:
                 sigma = shift*u / (1 + (shift-1)*u), u ~ U(0,1), shift 3;
                 x_t = (1 - sigma) x0 + sigma * noise; target = noise - x0; timestep = 1000 * sigma;
                 10 % of prompts dropped to "" (the pipeline's default negative prompt) for classifier-free guidance
  scheduler/     UniPCMultistepScheduler as Wan2.1 ships it (flow_prediction, use_flow_sigmas, flow_shift 3.0)

Phases: A) VAE (or --vae-from's, trained --vae-steps more); B) encode a fixed set of clips to latents (posterior
mean and std), per-channel latents_mean / latents_std into the VAE config (always recomputed); C) transformer on the
cached latents with an EMA copy, saving the whole pipeline every --save-every steps. Then goldens.py and
evaluate.py run on the result.

--out is only ever replaced whole: the run saves into a new folder beside it (<out>.partial-XXXX: the VAE every
100 steps in phase A, the whole pipeline from phase C on) and moves that folder into place when everything has
finished. A run that fails or is interrupted (Ctrl-C: exit 130) leaves --out as it was and says where the partial
folder is (resume with --vae-from / --transformer-from that folder). An existing --out must be empty or a pipeline
folder holding only what the run writes (model_index.json and the five component folders, which are replaced
whole), so a mistyped --out cannot replace an unrelated folder nor delete files the run did not write (README,
.git). A symlinked --out is followed: its target is replaced and the link kept.

Run (from the repo root):
  PYTHONPATH=/path/to/diffusers/src nice python3 training/train.py --out models/tessera-shapes
Seeded (--seed); prints the loss curve and wall time.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402

WORDS = ["a", *data.COLOURS, *data.SHAPES, "moving", *data.DIRECTIONS]
CHARS = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"-()/&")


def build_tokenizer():
    """A T5/UMT5-style Unigram tokenizer (same normalizer, Metaspace pre-tokenizer and '</s>' template as UMT5's
    tokenizer.json) whose whole-word pieces are the model's vocabulary; other text falls back to characters, and
    characters outside CHARS to <unk>."""
    from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0)]
    vocab += [("\u2581" + w, -2.0) for w in WORDS]
    vocab += [("\u2581", -4.0)] + [(c, -8.0) for c in CHARS]
    tk = Tokenizer(models.Unigram(vocab, unk_id=2, byte_fallback=False))
    tk.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(" {2,}", " ")])
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="\u2581", prepend_scheme="always", split=True)
    tk.post_processor = processors.TemplateProcessing(
        single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)]
    )
    tok = PreTrainedTokenizerFast(
        tokenizer_object=tk, eos_token="</s>", pad_token="<pad>", unk_token="<unk>", model_max_length=512
    )
    return tok, len(vocab)


def build_models(vocab_size: int, seed: int, vae_base_dim: int = 16, vae_dim_mult=(1, 2, 4),
                 vae_temporal_down=(True, True), z_dim: int = 16):
    from diffusers import AutoencoderKLWan, UniPCMultistepScheduler, WanTransformer3DModel
    from transformers import UMT5Config, UMT5EncoderModel

    torch.manual_seed(seed)
    te_cfg = UMT5Config(
        vocab_size=vocab_size, d_model=64, d_kv=16, d_ff=128, num_layers=2, num_decoder_layers=2, num_heads=4,
        relative_attention_num_buckets=32, relative_attention_max_distance=128, feed_forward_proj="gated-gelu",
        dropout_rate=0.0, pad_token_id=0, eos_token_id=1, decoder_start_token_id=0, tie_word_embeddings=True,
    )
    text_encoder = UMT5EncoderModel(te_cfg).eval()
    torch.manual_seed(seed + 1)
    vae = AutoencoderKLWan(
        base_dim=vae_base_dim, z_dim=z_dim, dim_mult=list(vae_dim_mult), num_res_blocks=1, attn_scales=[],
        temperal_downsample=list(vae_temporal_down), dropout=0.0,
        scale_factor_spatial=2 ** (len(vae_dim_mult) - 1), scale_factor_temporal=2 ** sum(vae_temporal_down),
    )
    torch.manual_seed(seed + 2)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=4, attention_head_dim=32, in_channels=z_dim, out_channels=z_dim,
        text_dim=64, freq_dim=64, ffn_dim=384, num_layers=4, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
        eps=1e-6, rope_max_seq_len=1024,
    )
    scheduler = UniPCMultistepScheduler(
        prediction_type="flow_prediction", use_flow_sigmas=True, num_train_timesteps=1000, flow_shift=3.0,
        solver_order=2, solver_type="bh2", predict_x0=True, lower_order_final=True, final_sigmas_type="zero",
    )
    return text_encoder, vae, transformer, scheduler


def to_vae_input(clips: np.ndarray) -> torch.Tensor:
    """[B, F, H, W, 3] in [0, 1] -> [B, 3, F, H, W] in [-1, 1] (what AutoencoderKLWan takes)."""
    return torch.from_numpy(clips).permute(0, 4, 1, 2, 3).contiguous() * 2.0 - 1.0


def decode_unclamped(vae, z: torch.Tensor) -> torch.Tensor:
    """AutoencoderKLWan._decode without its final clamp to [-1, 1] (diffusers autoencoder_kl_wan.py): the clamp has
    no gradient where the decoder overshoots, and a decoder that overshoots black everywhere would stop learning."""
    vae.clear_cache()
    x = vae.post_quant_conv(z)
    outs = []
    for i in range(z.shape[2]):
        vae._conv_idx = [0]
        outs.append(vae.decoder(x[:, :, i:i + 1], feat_cache=vae._feat_map, feat_idx=vae._conv_idx, first_chunk=i == 0))
    vae.clear_cache()
    return torch.cat(outs, 2)


def save_pipeline(out, tokenizer, text_encoder, vae, transformer, scheduler):
    from diffusers import WanPipeline

    pipe = WanPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                       scheduler=scheduler)
    pipe.save_pretrained(out, safe_serialization=True)


def lr_at(step, total, peak, warmup):
    if step < warmup:
        return peak * (step + 1) / warmup
    p = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * p)))


# What save_pipeline writes at the top of a pipeline folder; an existing --out may hold nothing else.
PIPELINE_ENTRIES = frozenset(["model_index.json", "scheduler", "text_encoder", "tokenizer", "transformer", "vae"])


def parse_args(argv=None):
    ap = argparse.ArgumentParser(prog="train.py",
                                 description="Trains the tessera-shapes pipeline on CPU (see the module docstring).")
    ap.add_argument("--out", default="models/tessera-shapes",
                    help="pipeline folder to write; replaced only when the whole run has finished")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--vae-steps", type=int, default=3000)
    ap.add_argument("--vae-base-dim", type=int, default=16)
    ap.add_argument("--vae-dim-mult", default="1,2,4", help="AutoencoderKLWan dim_mult; 2^(len-1) is the spatial factor")
    ap.add_argument("--vae-temporal-down", default="1,1", help="temperal_downsample, one 0/1 per down block but the last")
    ap.add_argument("--z-dim", type=int, default=16)
    ap.add_argument("--vae-batch", type=int, default=4)
    ap.add_argument("--cache-clips", type=int, default=2048)
    ap.add_argument("--steps", type=int, default=3000)
    ap.add_argument("--batch", type=int, default=48)
    ap.add_argument("--lr", type=float, default=5e-4)
    ap.add_argument("--save-every", type=int, default=500)
    ap.add_argument("--transformer-from", default=None, metavar="DIR",
                    help="start the transformer from DIR/transformer (continue training)")
    ap.add_argument("--vae-from", default=None, metavar="DIR",
                    help="start phase A from DIR/vae and train it --vae-steps more steps (0: keep it as it is); "
                         "its latents_mean/std are recomputed in phase B")
    args = ap.parse_args(argv)
    for flag, value, least in [("--threads", args.threads, 1), ("--vae-steps", args.vae_steps, 0),
                               ("--vae-base-dim", args.vae_base_dim, 1), ("--z-dim", args.z_dim, 1),
                               ("--vae-batch", args.vae_batch, 1), ("--cache-clips", args.cache_clips, 1),
                               ("--steps", args.steps, 0), ("--batch", args.batch, 1),
                               ("--save-every", args.save_every, 1)]:
        if value < least:
            ap.error(f"{flag}: expected an integer >= {least}, got {value}")
    for flag, folder, sub in [("--vae-from", args.vae_from, "vae"),
                              ("--transformer-from", args.transformer_from, "transformer")]:
        if folder is not None and not os.path.isfile(os.path.join(folder, sub, "config.json")):
            ap.error(f"{flag} {folder}: no {sub}/config.json there (expected a pipeline folder)")
    out = os.path.realpath(args.out)  # a symlinked --out: its target is replaced and the link kept
    if os.path.exists(out) and not (os.path.isdir(out) and (os.path.isfile(os.path.join(out, "model_index.json"))
                                                           or not os.listdir(out))):
        ap.error(f"--out {args.out}: exists and is not a pipeline folder (no model_index.json), so it will not be "
                 "replaced; give a new folder, an empty one or a pipeline folder")
    # The old folder is deleted after the swap, so anything in it the run does not write (a README, .git, notes)
    # would be lost without a word: refuse it instead.
    extra = sorted(set(os.listdir(out)) - PIPELINE_ENTRIES) if os.path.isdir(out) else []
    if extra:
        ap.error(f"--out {args.out}: holds {', '.join(extra)} besides the pipeline's own files (model_index.json, "
                 f"{', '.join(sorted(PIPELINE_ENTRIES - {'model_index.json'}))}), which replacing it would delete; "
                 "move them away or give another folder")
    return args


def staging_folder(out: str) -> str:
    """A new, empty folder beside `out` (same file system, so the final rename is atomic), with the permissions a
    plain mkdir would give (mkdtemp makes 0700)."""
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    work = tempfile.mkdtemp(prefix=os.path.basename(out) + ".partial-", dir=parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(work, 0o777 & ~umask)
    return work


def move_into_place(work: str, out: str):
    """Replaces the folder `out` (if any; a real path, not a link) with the finished `work` folder: two renames,
    then the old folder is deleted. The run has finished by then, so a failed deletion only warns, naming the
    folder left behind."""
    if not os.path.exists(out):
        os.rename(work, out)
        return
    old = os.path.join(os.path.dirname(work), os.path.basename(work).replace(".partial-", ".old-", 1))
    os.rename(out, old)
    try:
        os.rename(work, out)
    except BaseException:
        os.rename(old, out)
        raise
    try:
        shutil.rmtree(old)
    except OSError as e:
        print(f"train.py: warning: could not delete the previous pipeline folder {old} ({e}); {out} is the new "
              "one, delete the old one yourself", file=sys.stderr, flush=True)


def main(argv=None):
    args = parse_args(argv)
    out = os.path.realpath(args.out)
    work = staging_folder(out)
    try:
        train(args, work)
    except BaseException as e:
        interrupted = isinstance(e, KeyboardInterrupt)
        what = "interrupted" if interrupted else f"failed ({type(e).__name__})"
        if os.listdir(work):
            print(f"train.py: {what}; --out {args.out} is unchanged; what was saved so far is in {work} "
                  "(--vae-from / --transformer-from can resume from it)", file=sys.stderr, flush=True)
        else:
            os.rmdir(work)
            print(f"train.py: {what}; --out {args.out} is unchanged", file=sys.stderr, flush=True)
        if interrupted:
            sys.exit(130)
        raise
    move_into_place(work, out)
    print(f"[out] wrote {args.out}", flush=True)


def train(args, out: str):
    """Phases A-C (module docstring), saving into `out` as they go."""

    torch.set_num_threads(args.threads)
    t_start = time.time()
    rng = np.random.default_rng(args.seed)
    tokenizer, vocab_size = build_tokenizer()
    dim_mult = [int(v) for v in args.vae_dim_mult.split(",")]
    tdown = [v.strip() == "1" for v in args.vae_temporal_down.split(",")]
    text_encoder, vae, transformer, scheduler = build_models(vocab_size, args.seed, args.vae_base_dim, dim_mult, tdown,
                                                             args.z_dim)
    n = lambda m: sum(p.numel() for p in m.parameters())
    print(f"params: text_encoder {n(text_encoder)/1e6:.3f} M, vae {n(vae)/1e6:.3f} M, "
          f"transformer {n(transformer)/1e6:.3f} M; vocab {vocab_size}", flush=True)
    for p in text_encoder.parameters():
        p.requires_grad_(False)

    if args.transformer_from:
        from diffusers import WanTransformer3DModel
        transformer = WanTransformer3DModel.from_pretrained(os.path.join(args.transformer_from, "transformer"))
        print(f"[dit] starting from {args.transformer_from}", flush=True)

    # ---- Phase A: VAE -------------------------------------------------------------------------------------------
    if args.vae_from:
        from diffusers import AutoencoderKLWan
        vae = AutoencoderKLWan.from_pretrained(os.path.join(args.vae_from, "vae"))
        print(f"[vae] loaded from {args.vae_from}; {args.vae_steps} more steps", flush=True)
    if args.vae_steps > 0:
        vae.train()
        opt = torch.optim.Adam(vae.parameters(), lr=1e-3)
        gen = torch.Generator().manual_seed(args.seed + 10)
        ema_l = None
        t0 = time.time()
        for step in range(args.vae_steps):
            for g in opt.param_groups:
                g["lr"] = lr_at(step, args.vae_steps, 2e-3, 20)
            # Odd steps: 9-frame clips (temporal paths); even steps: 3x as many single frames, which cost far
            # less and carry what is hardest to learn (colours and positions; Wan's first chunk is one frame).
            if step % 2 == 0:
                clips, _ = data.make_batch(rng, 3 * args.vae_batch)
                pick = rng.integers(0, clips.shape[1], size=clips.shape[0])
                clips = clips[np.arange(clips.shape[0]), pick][:, None]  # one random frame of each clip
            else:
                clips, _ = data.make_batch(rng, args.vae_batch)
            x = to_vae_input(clips)
            post = vae.encode(x).latent_dist
            # Posterior mean plus a little fixed noise: sampling at the initial std (~1) hides the signal and the
            # decoder settles on black frames; the mean is what the latents cache and the pipeline use.
            z = post.mean + 0.05 * torch.randn(post.mean.shape, generator=gen)
            y = decode_unclamped(vae, z)
            w = 1.0 + 4.0 * (x.amax(dim=1, keepdim=True) > -0.99).float()  # shapes are small: weight them up
            rec = ((y - x) ** 2 * w).mean()  # MSE: rewards partial blobs early (L1's per-pixel median is black)
            kl = post.mean.pow(2).mean()  # keeps the latent scale bounded (reported as "kl")
            loss = rec + 1e-3 * kl
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
            opt.step()
            l1 = (y.clamp(-1, 1) - x).abs().mean().item() / 2  # in [0, 1] pixel units
            fg = x.amax(dim=1) > -0.99
            fg_err = (y.clamp(-1, 1) - x).abs().mean(dim=1)[fg].mean().item() / 2  # on the shapes' pixels
            ema_l = l1 if ema_l is None else 0.95 * ema_l + 0.05 * l1
            if (step + 1) % 100 == 0:
                vae.save_pretrained(os.path.join(out, "vae"))  # kept in the partial folder if the run stops
            if step % 25 in (0, 1) or step == args.vae_steps - 1:
                print(f"[vae] step {step:5d} loss {loss.item():.4f} rec {rec.item():.4f} mean^2 {kl.item():.3f} "
                      f"L1(px) {l1:.4f} (avg {ema_l:.4f}) on shapes {fg_err:.3f} {time.time()-t0:.0f}s", flush=True)
        print(f"[vae] done in {time.time()-t0:.0f}s, final L1 (pixels, avg) {ema_l:.4f}", flush=True)
    vae.eval()
    for p in vae.parameters():
        p.requires_grad_(False)

    # ---- Phase B: latents cache -----------------------------------------------------------------------------------
    t0 = time.time()
    cache_rng = np.random.default_rng(args.seed + 20)
    mus, stds, prompts = [], [], []
    with torch.no_grad():
        for i in range(0, args.cache_clips, 64):
            clips, specs = data.make_batch(cache_rng, min(64, args.cache_clips - i))  # first batch: the check below
            post = vae.encode(to_vae_input(clips)).latent_dist
            mus.append(post.mean)
            stds.append(torch.full_like(post.mean, 0.05))  # the noise level the decoder was trained with
            prompts += [s.prompt for s in specs]
    mu = torch.cat(mus)  # [N, z_dim, 3, 8, 8] at the defaults (9 frames of 32x32, 4x time and space)
    sd = torch.cat(stds)
    # The VAE's latents statistics (as Wan's latents_mean / latents_std), over the cached clips; always recomputed,
    # also for --vae-from's VAE, since they must describe the latents the transformer is trained on.
    mean_c = mu.mean(dim=(0, 2, 3, 4))
    std_c = (mu.var(dim=(0, 2, 3, 4)) + (sd ** 2).mean(dim=(0, 2, 3, 4))).sqrt()
    vae.register_to_config(latents_mean=[float(v) for v in mean_c], latents_std=[float(v) for v in std_c])
    mean_c = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1)
    std_c = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1)
    # Reconstruction check on the cached clips' first batch (decoded from the posterior mean).
    with torch.no_grad():
        clips, _ = data.make_batch(np.random.default_rng(args.seed + 20), mus[0].shape[0])  # the same clips
        rec = (vae.decode(mus[0]).sample + 1) / 2
        rec_l1 = (rec.permute(0, 2, 3, 4, 1).numpy() - clips).__abs__().mean()
    print(f"[cache] {len(prompts)} clips encoded in {time.time()-t0:.0f}s; latent {tuple(mu.shape[1:])}; "
          f"reconstruction L1 {rec_l1:.4f}; latents_mean {np.round(vae.config.latents_mean, 3).tolist()} "
          f"latents_std {np.round(vae.config.latents_std, 3).tolist()}", flush=True)

    # Text: the pipeline's own prompt encoding (real tokens' rows are independent of the padding length).
    from diffusers import WanPipeline
    pipe = WanPipeline(tokenizer=tokenizer, text_encoder=text_encoder, vae=vae, transformer=transformer,
                       scheduler=scheduler)
    uniq = sorted(set(prompts)) + [""]
    with torch.no_grad():
        tok = tokenizer(uniq, padding="max_length", max_length=64, return_tensors="pt")
        lens = tok.attention_mask.sum(1)
        emb = pipe._get_t5_prompt_embeds(uniq, max_sequence_length=64, device=torch.device("cpu"))
    max_len = int(lens.max())
    emb = emb[:, :max_len]  # rows beyond each prompt's length are already zero
    index = {p: i for i, p in enumerate(uniq)}
    pidx = torch.tensor([index[p] for p in prompts])
    empty = index[""]
    print(f"[text] {len(uniq)-1} prompts, tokens per prompt {lens.min().item()}..{max_len}", flush=True)

    # ---- Phase C: transformer -------------------------------------------------------------------------------------
    save_pipeline(out, tokenizer, text_encoder, vae, transformer, scheduler)  # with --steps 0, the result
    transformer.train()
    ema = {k: v.detach().clone() for k, v in transformer.state_dict().items()}
    opt = torch.optim.AdamW(transformer.parameters(), lr=args.lr, weight_decay=0.0, betas=(0.9, 0.99))
    gen = torch.Generator().manual_seed(args.seed + 30)
    shift = 3.0
    N = mu.shape[0]
    ema_l, t0 = None, time.time()
    for step in range(args.steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, args.steps, args.lr, 200)
        idx = torch.randint(0, N, (args.batch,), generator=gen)
        x0 = mu[idx] + sd[idx] * torch.randn(mu[idx].shape, generator=gen)
        x0 = (x0 - mean_c) / std_c
        noise = torch.randn(x0.shape, generator=gen)
        u = torch.rand(args.batch, generator=gen)
        sigma = shift * u / (1 + (shift - 1) * u)
        s5 = sigma.view(-1, 1, 1, 1, 1)
        xt = (1 - s5) * x0 + s5 * noise
        # Text: 10 % dropped to "", zero-padded to a length drawn per step (512 as the pipeline default, or shorter) so that
        # the model does not depend on how many zero rows follow the prompt
        drop = torch.rand(args.batch, generator=gen) < 0.1
        pi = torch.where(drop, torch.full_like(pidx[idx], empty), pidx[idx])
        r = torch.rand((), generator=gen).item()
        if r < 0.05:
            L = 512  # the pipeline's default max_sequence_length
        elif r < 0.15:
            L = int(torch.randint(33, 129, (), generator=gen))
        else:
            L = int(torch.randint(max_len, 33, (), generator=gen))  # short: most steps, cheap
        ehs = torch.zeros(args.batch, L, emb.shape[-1])
        ehs[:, :max_len] = emb[pi]
        pred = transformer(xt, timestep=sigma * 1000, encoder_hidden_states=ehs, return_dict=False)[0]
        loss = torch.nn.functional.mse_loss(pred, noise - x0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(transformer.parameters(), 1.0)
        opt.step()
        with torch.no_grad():
            d = min(0.999, (1 + step) / (10 + step))
            for k, v in transformer.state_dict().items():
                ema[k].mul_(d).add_(v.detach(), alpha=1 - d)
        ema_l = loss.item() if ema_l is None else 0.98 * ema_l + 0.02 * loss.item()
        if step % 50 == 0 or step == args.steps - 1:
            print(f"[dit] step {step:5d} loss {loss.item():.4f} (avg {ema_l:.4f}) lr {opt.param_groups[0]['lr']:.2e} "
                  f"L {L} {time.time()-t0:.0f}s", flush=True)
        if (step + 1) % args.save_every == 0 or step == args.steps - 1:
            live = {k: v.detach().clone() for k, v in transformer.state_dict().items()}
            transformer.load_state_dict(ema)
            save_pipeline(out, tokenizer, text_encoder, vae, transformer, scheduler)
            transformer.load_state_dict(live)
            print(f"[dit] saved EMA pipeline at step {step+1} to {out}", flush=True)
    final = "n/a (0 steps: the transformer as initialised or loaded)" if ema_l is None else f"{ema_l:.4f}"
    print(f"[dit] done in {time.time()-t0:.0f}s, final loss (avg) {final}", flush=True)
    print(f"total wall time {time.time()-t_start:.0f}s", flush=True)


if __name__ == "__main__":
    main()
