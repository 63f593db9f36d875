"""The issue-12 judge: reads only `video` [B, F, H, W, 3] in [0, 1] and says which colour and direction it shows.

- foreground = pixels whose max channel > 0.35
- colour = the palette colour nearest (Euclidean RGB) to the per-channel median of the foreground pixels (all frames)
- direction = dominant axis and sign of the foreground centroid's displacement from first to last frame; the
  displacement along that axis must be >= 0.2 of the frame's size along it
- the foreground must cover 0.3 % .. 40 % of every frame
"""

from __future__ import annotations

import numpy as np

from data import PALETTE

FG_THRESHOLD = 0.35
MIN_DISPLACEMENT = 0.2
MIN_COVER = 0.003
MAX_COVER = 0.40


def judge_clip(clip: np.ndarray) -> dict:
    """clip: [F, H, W, 3] in [0, 1]. Returns {colour, direction, ok, reason, cover_min, cover_max, displacement}."""
    clip = np.asarray(clip, dtype=np.float64)
    if clip.ndim != 4 or clip.shape[-1] != 3:
        raise ValueError(f"judge: expected a clip [F, H, W, 3], got {clip.shape}")
    F, H, W, _ = clip.shape
    fg = clip.max(axis=-1) > FG_THRESHOLD  # [F, H, W]
    cover = fg.reshape(F, -1).mean(axis=1)
    res = {"colour": None, "direction": None, "cover_min": float(cover.min()), "cover_max": float(cover.max()),
           "displacement": None, "ok": False, "reason": ""}
    if cover.min() < MIN_COVER or cover.max() > MAX_COVER:
        res["reason"] = f"cover {cover.min():.4f}..{cover.max():.4f} outside {MIN_COVER}..{MAX_COVER}"
        return res
    med = np.median(clip[fg], axis=0)  # [3]
    names = list(PALETTE)
    pal = np.asarray([PALETTE[n] for n in names])
    res["colour"] = names[int(np.argmin(((pal - med) ** 2).sum(axis=1)))]
    ys, xs = np.mgrid[0:H, 0:W]

    def centroid(f):
        m = fg[f]
        return xs[m].mean(), ys[m].mean()

    (x0, y0), (x1, y1) = centroid(0), centroid(F - 1)
    dx, dy = (x1 - x0) / W, (y1 - y0) / H  # fractions of the frame
    res["displacement"] = (float(dx), float(dy))
    if abs(dx) >= abs(dy):
        direction, mag = ("right" if dx > 0 else "left"), abs(dx)
    else:
        direction, mag = ("down" if dy > 0 else "up"), abs(dy)
    if mag < MIN_DISPLACEMENT:
        res["reason"] = f"displacement {mag:.3f} of the frame < {MIN_DISPLACEMENT}"
        return res
    res["direction"] = direction
    res["ok"] = True
    return res


def judge(video: np.ndarray, colour: str, direction: str) -> list[dict]:
    """video [B, F, H, W, 3]; each item passes when the judge reads exactly (colour, direction)."""
    video = np.asarray(video)
    if video.ndim != 5:
        raise ValueError(f"judge: expected video [B, F, H, W, 3], got {video.shape}")
    out = []
    for clip in video:
        r = judge_clip(clip)
        r["pass"] = bool(r["ok"] and r["colour"] == colour and r["direction"] == direction)
        out.append(r)
    return out
