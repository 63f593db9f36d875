"""Writes golden cases for tessera from the trained pipeline: the real libraries' float32 outputs (transformers'
UMT5EncoderModel, diffusers' WanTransformer3DModel, AutoencoderKLWan and WanPipeline) on the committed weights.

Cases (the format of ../shared/golden/*/case.json, so ../shared/tools/check-cases.sh runs them through the CLI):
  tests/fixtures/tessera_shapes/encode/    WanPipeline._get_t5_prompt_embeds -> prompt_embeds [1, 16, 64]
  tests/fixtures/tessera_shapes/forward/   one WanTransformer3DModel forward -> sample [1, 16, 3, 8, 8]
  tests/fixtures/tessera_shapes/decode/    latents denormalised (latents_std, latents_mean) + AutoencoderKLWan.decode
                                           -> sample [1, 3, 9, 32, 32] in [-1, 1]
  tests/fixtures/tessera_shapes/pipeline/  the whole WanPipeline (UniPC, CFG 5.0, negative "") from given latents
                                           -> video [1, 9, 32, 32, 3] in [0, 1] (and latents [1, 16, 3, 8, 8])
Each case's pipeline/model/vae path points at the committed model folder (models/tessera-shapes).

  PYTHONPATH=/path/to/diffusers/src python3 training/goldens.py --pipeline models/tessera-shapes
"""

from __future__ import annotations

import argparse
import json
import os

import numpy as np
import torch
from safetensors.torch import save_file

PROMPT = "a red circle moving right"
TOL = {
    "metric": "max(|out - expected|) / max(|expected|) over the whole output tensor",
    "max": 0.002,
    "why": "float32 runs of the real libraries on the trained weights; issue 12 asks tessera to match them at 2e-3",
}


def ref(diffusers_version, transformers_version):
    return {"implementation": "the real library, float32 (training/goldens.py)", "diffusers": diffusers_version,
            "transformers": transformers_version, "torch": torch.__version__}


def spec(tensors):
    return {k: {"dtype": "F32", "shape": list(v.shape), "max_abs": float(v.abs().max())} for k, v in tensors.items()}


def write_case(root, name, meta, inputs, expected):
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    if inputs:
        save_file({k: v.contiguous().float() for k, v in inputs.items()}, os.path.join(d, "inputs.safetensors"))
    save_file({k: v.contiguous().float() for k, v in expected.items()}, os.path.join(d, "expected.safetensors"))
    meta = dict(meta, name=f"tessera_shapes_{name}", tolerance=TOL, inputs=spec(inputs), expected=spec(expected))
    with open(os.path.join(d, "case.json"), "w") as f:
        json.dump(meta, f, indent=2)
    print(f"wrote {d}: " + ", ".join(f"{k} {list(v.shape)}" for k, v in expected.items()))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pipeline", default="models/tessera-shapes")
    ap.add_argument("--out", default="tests/fixtures/tessera_shapes")
    ap.add_argument("--steps", type=int, default=10)
    args = ap.parse_args()
    torch.set_num_threads(1)
    import diffusers
    import transformers
    from diffusers import WanPipeline

    pipe = WanPipeline.from_pretrained(args.pipeline, torch_dtype=torch.float32)
    pipe.set_progress_bar_config(disable=True)
    r = ref(diffusers.__version__, transformers.__version__)
    # {case} is tests/fixtures/tessera_shapes/<name>; the model folder is four levels up.
    rel = os.path.relpath(os.path.abspath(args.pipeline), os.path.abspath(os.path.join(args.out, "x")))
    model = "{case}/" + rel
    cpu = torch.device("cpu")
    # latent shape from the configs, as WanPipeline.prepare_latents computes it: [1, z_dim, F', H/s, W/s]
    lat_shape = (1, pipe.transformer.config.in_channels, (9 - 1) // pipe.vae_scale_factor_temporal + 1,
                 32 // pipe.vae_scale_factor_spatial, 32 // pipe.vae_scale_factor_spatial)

    with torch.no_grad():
        # 1. text encoder: prompt_embeds as WanPipeline makes them (zeros past the prompt's tokens)
        pe = pipe._get_t5_prompt_embeds(PROMPT, max_sequence_length=16, device=cpu)
        write_case(args.out, "encode", {
            "family": "umt5", "mode": "encode", "model_class": "UMT5EncoderModel",
            "description": f"tessera-shapes text encoder: WanPipeline prompt encoding of '{PROMPT}', "
                           "max_sequence_length 16",
            "cli": {"subcommand": "encode", "args": ["--pipeline", model, "--prompt", PROMPT,
                                                     "--max-sequence-length", "16", "--out", "{out}"],
                    "output_key": "prompt_embeds"}, "reference": r}, {}, {"prompt_embeds": pe})

        # 2. one transformer forward at a mid-schedule timestep
        g = torch.Generator().manual_seed(1234)
        hs = torch.randn(*lat_shape, generator=g)
        ts = torch.tensor([757.0])
        out = pipe.transformer(hs, timestep=ts, encoder_hidden_states=pe, return_dict=False)[0]
        write_case(args.out, "forward", {
            "family": "wan", "mode": "forward", "model_class": "WanTransformer3DModel",
            "description": "tessera-shapes transformer: one forward on seeded hidden_states, timestep 757, the "
                           "encode case's prompt_embeds",
            "cli": {"subcommand": "forward", "args": ["--model", model + "/transformer", "--inputs",
                                                      "{case}/inputs.safetensors", "--out", "{out}"],
                    "output_key": "sample"}, "reference": r},
            {"hidden_states": hs, "timestep": ts, "encoder_hidden_states": pe}, {"sample": out})

        # 3. the whole pipeline from given initial latents (gives a real clip's latents for the decode case)
        g = torch.Generator().manual_seed(0)
        lat0 = torch.randn(*lat_shape, generator=g)
        res = pipe(prompt=PROMPT, negative_prompt="", height=32, width=32, num_frames=9,
                   num_inference_steps=args.steps, guidance_scale=5.0, latents=lat0.clone(), output_type="latent",
                   max_sequence_length=512)
        lat = res.frames  # normalised latents lat_shape
        video = pipe(prompt=PROMPT, negative_prompt="", height=32, width=32, num_frames=9,
                     num_inference_steps=args.steps, guidance_scale=5.0, latents=lat0.clone(), output_type="np",
                     max_sequence_length=512).frames
        video = torch.from_numpy(np.asarray(video))
        write_case(args.out, "pipeline", {
            "family": "wan-pipeline", "mode": "generate", "model_class": "WanPipeline",
            "description": f"tessera-shapes whole WanPipeline: '{PROMPT}', negative '', {args.steps} UniPC steps, "
                           "guidance 5.0, 9 frames 32x32, max_sequence_length 512, initial latents given; "
                           "video = output_type='np' frames",
            "cli": {"subcommand": "generate", "args": ["--pipeline", model, "--prompt", PROMPT, "--negative-prompt",
                                                       "", "--inputs", "{case}/inputs.safetensors", "--steps",
                                                       str(args.steps), "--guidance", "5.0",
                                                       "--max-sequence-length", "512", "--out", "{out}"],
                    "output_key": "video"}, "reference": r},
            {"latents": lat0}, {"video": video, "latents": lat})

        # 4. VAE decode of those latents (normalised; the decoder denormalises with latents_std / latents_mean)
        vae = pipe.vae
        m = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1)
        s = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1)
        dec = vae.decode(lat * s + m, return_dict=False)[0]
        write_case(args.out, "decode", {
            "family": "wan-vae", "mode": "decode", "model_class": "AutoencoderKLWan",
            "description": "tessera-shapes VAE: decode of the pipeline case's final latents (normalised)",
            "cli": {"subcommand": "decode", "args": ["--vae", model + "/vae", "--inputs", "{case}/inputs.safetensors",
                                                     "--out", "{out}"], "output_key": "sample"}, "reference": r},
            {"latents": lat}, {"sample": dec})


if __name__ == "__main__":
    main()
