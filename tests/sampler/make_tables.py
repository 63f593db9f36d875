# Regenerates tests/sampler/tables.json: diffusers' scheduler set-up code transcribed with numpy,
# float64 where diffusers uses numpy float64 and np.float32 where it uses torch float32
# (torch's CPU cumprod accumulates float32 in double, so that one is done in float64 and rounded).
# Run: python3 tests/sampler/make_tables.py > tests/sampler/tables.json
import json
import math

import numpy as np

f32 = np.float32


def flow(steps, shift, n=1000):
    # FlowMatchEulerDiscreteScheduler.__init__
    t = np.linspace(1, n, n, dtype=np.float32)[::-1].copy()
    s = t / f32(n)
    s = f32(shift) * s / (f32(1) + f32(shift - 1) * s)
    smax, smin = float(s[0]), float(s[-1])
    # set_timesteps
    ts = np.linspace(smax * n, smin * n, steps)
    sig = ts / n
    sig = shift * sig / (1 + (shift - 1) * sig)
    sig = sig.astype(np.float32)
    tt = sig * f32(n)
    return [float(x) for x in tt], [float(x) for x in sig] + [0.0]


def betas(schedule, n=1000, b0=0.0001, b1=0.02):
    if schedule == "linear":
        return np.linspace(b0, b1, n).astype(np.float32)
    if schedule == "scaled_linear":
        b = np.linspace(b0**0.5, b1**0.5, n).astype(np.float32)
        return b * b
    if schedule == "squaredcos_cap_v2":
        ab = lambda t: math.cos((t + 0.008) / 1.008 * math.pi / 2) ** 2
        return np.array([min(1 - ab((i + 1) / n) / ab(i / n), 0.999) for i in range(n)], dtype=np.float32)
    raise ValueError(schedule)


def cumprod(b):
    a = (f32(1) - b).astype(np.float64)
    return np.cumprod(a).astype(np.float32)


def rescale(b):
    s = np.sqrt(cumprod(b))
    s0, sT = s[0], s[-1]
    s = (s - sT) * (s0 / (s0 - sT))
    bar = s * s
    a = np.concatenate([bar[:1], bar[1:] / bar[:-1]])
    return f32(1) - a


def ddim_ts(steps, n=1000, spacing="leading", offset=0):
    if spacing == "linspace":
        return np.linspace(0, n - 1, steps).round()[::-1].copy().astype(np.int64)
    if spacing == "leading":
        r = n // steps
        return (np.arange(0, steps) * r).round()[::-1].copy().astype(np.int64) + offset
    r = n / steps
    return np.round(np.arange(n, 0, -r)).astype(np.int64) - 1


out = {"flow": [], "ddim_timesteps": [], "alphas_cumprod": {}}
for steps, shift in [(1, 1.0), (1, 3.0), (3, 2.0), (10, 1.0), (10, 3.0), (50, 5.0), (50, 1.0), (7, 3.3)]:
    t, s = flow(steps, shift)
    out["flow"].append({"steps": steps, "shift": shift, "timesteps": t, "sigmas": s})
for steps, spacing, offset in [(1, "leading", 0), (3, "leading", 1), (10, "leading", 1), (50, "leading", 0),
                               (3, "linspace", 0), (10, "linspace", 0), (50, "linspace", 0), (1, "linspace", 0),
                               (3, "trailing", 0), (10, "trailing", 0), (50, "trailing", 0), (1, "trailing", 0),
                               (1000, "leading", 0)]:
    ts = ddim_ts(steps, spacing=spacing, offset=offset)
    out["ddim_timesteps"].append({"steps": steps, "spacing": spacing, "steps_offset": offset,
                                  "timesteps": [int(x) for x in ts]})
idx = [0, 1, 10, 100, 333, 500, 666, 900, 998, 999]
out["alphas_cumprod"]["index"] = idx
for name in ["linear", "scaled_linear", "squaredcos_cap_v2"]:
    b = betas(name, b0=0.00085 if name == "scaled_linear" else 0.0001, b1=0.012 if name == "scaled_linear" else 0.02)
    out["alphas_cumprod"][name] = [float(x) for x in cumprod(b)[idx]]
    out["alphas_cumprod"][name + "+zero_snr"] = [float(x) for x in cumprod(rescale(b))[idx]]
print(json.dumps(out, indent=1))
