"""Procedural shape clips for tessera's miniature Wan2.1 pipeline (issue 12).

One shape (circle, square, triangle) of one palette colour on a black background moves in a straight line
(left, right, up, down) by at least a third of the frame. Prompt: "a {colour} {shape} moving {direction}".

Clips are float32 arrays [F, H, W, 3] in [0, 1] (the layout of WanPipeline's output_type="np" video, one batch
item). "up" is toward row 0, "left" toward column 0. The shape lies entirely inside every frame.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np

SHAPES = ("circle", "square", "triangle")
# RGB in [0, 1]; the judge maps the median foreground colour to the nearest of these.
PALETTE = {
    "red": (1.0, 0.0, 0.0),
    "green": (0.0, 1.0, 0.0),
    "blue": (0.0, 0.0, 1.0),
    "yellow": (1.0, 1.0, 0.0),
    "white": (1.0, 1.0, 1.0),
    "magenta": (1.0, 0.0, 1.0),
    "cyan": (0.0, 1.0, 1.0),
}
COLOURS = tuple(PALETTE)
# Unit displacement per direction as (dx, dy) in image coordinates (y grows downward).
DIRECTIONS = {"left": (-1, 0), "right": (1, 0), "up": (0, -1), "down": (0, 1)}
# (colour, direction) pairs never shown in training, for every shape.
HELD_OUT = frozenset({("green", "up"), ("magenta", "left"), ("cyan", "down"), ("white", "right")})

NUM_FRAMES = 9  # 4k + 1, what AutoencoderKLWan's temporal factor 4 needs
HEIGHT = 32
WIDTH = 32
MIN_SIZE = 7  # shape side / diameter in pixels, inclusive
MAX_SIZE = 12
MARGIN = 1.0  # pixels kept between the shape's bounding box and the frame edge


def prompt_for(colour: str, shape: str, direction: str) -> str:
    return f"a {colour} {shape} moving {direction}"


def all_triples():
    """Every (colour, shape, direction) in canonical order."""
    return list(itertools.product(COLOURS, SHAPES, DIRECTIONS))


def seen_triples():
    return [t for t in all_triples() if (t[0], t[2]) not in HELD_OUT]


def held_out_triples():
    return [t for t in all_triples() if (t[0], t[2]) in HELD_OUT]


@dataclasses.dataclass(frozen=True)
class ClipSpec:
    colour: str
    shape: str
    direction: str
    size: float  # side / diameter in pixels
    start: tuple[float, float]  # centre (x, y) at frame 0, pixels
    distance: float  # pixels travelled from first to last frame

    @property
    def prompt(self) -> str:
        return prompt_for(self.colour, self.shape, self.direction)

    def centre(self, f: int, num_frames: int) -> tuple[float, float]:
        dx, dy = DIRECTIONS[self.direction]
        a = f / (num_frames - 1) if num_frames > 1 else 0.0
        return (self.start[0] + dx * self.distance * a, self.start[1] + dy * self.distance * a)


def sample_spec(rng: np.random.Generator, triple=None, height: int = HEIGHT, width: int = WIDTH) -> ClipSpec:
    """Draws a random clip. `triple` fixes (colour, shape, direction); otherwise a seen triple is drawn."""
    if triple is None:
        seen = seen_triples()
        triple = seen[rng.integers(len(seen))]
    colour, shape, direction = triple
    size = float(rng.uniform(MIN_SIZE, MAX_SIZE))
    dx, dy = DIRECTIONS[direction]
    extent = width if dx != 0 else height  # along the motion
    across = height if dx != 0 else width
    lo = size / 2 + MARGIN  # lowest centre coordinate that keeps the shape inside
    min_dist = extent / 3.0
    max_dist = extent - 2 * lo
    assert max_dist > min_dist, "frame too small for the shape sizes"
    distance = float(rng.uniform(min_dist + 0.5, max_dist))
    # Centre along the motion at the first frame: leave room to travel `distance`.
    first = float(rng.uniform(lo, extent - lo - distance))
    if dx < 0 or dy < 0:
        first = extent - first  # mirror so that moving toward 0 stays inside
    other = float(rng.uniform(lo, across - lo))
    start = (first, other) if dx != 0 else (other, first)
    return ClipSpec(colour, shape, direction, size, start, distance)


def _coverage(shape: str, xs: np.ndarray, ys: np.ndarray, cx: float, cy: float, size: float) -> np.ndarray:
    """1 where the point (xs, ys) is inside the shape centred at (cx, cy)."""
    h = size / 2
    u, v = xs - cx, ys - cy
    if shape == "circle":
        return (u * u + v * v <= h * h).astype(np.float32)
    if shape == "square":
        return ((np.abs(u) <= h) & (np.abs(v) <= h)).astype(np.float32)
    if shape == "triangle":
        # Apex up at (0, -h), base from (-h, h) to (h, h): |u| <= h * (v + h) / (2h).
        return ((v <= h) & (v >= -h) & (np.abs(u) <= (v + h) / 2)).astype(np.float32)
    raise ValueError(f"unknown shape {shape!r}")


SUPERSAMPLE = 4  # sub-pixel samples per axis: soft (anti-aliased) edges that a VAE reconstructs easily


def render(spec: ClipSpec, num_frames: int = NUM_FRAMES, height: int = HEIGHT, width: int = WIDTH) -> np.ndarray:
    """Renders a clip: float32 [F, H, W, 3] in [0, 1], black background, pixel centres at (i + 0.5)."""
    s = SUPERSAMPLE
    offs = (np.arange(s, dtype=np.float32) + 0.5) / s
    ys = (np.arange(height, dtype=np.float32)[:, None] + offs[None, :]).reshape(-1)  # [H*s]
    xs = (np.arange(width, dtype=np.float32)[:, None] + offs[None, :]).reshape(-1)  # [W*s]
    X, Y = np.meshgrid(xs, ys)  # [H*s, W*s]
    colour = np.asarray(PALETTE[spec.colour], dtype=np.float32)
    out = np.zeros((num_frames, height, width, 3), dtype=np.float32)
    for f in range(num_frames):
        cx, cy = spec.centre(f, num_frames)
        cov = _coverage(spec.shape, X, Y, cx, cy, spec.size).reshape(height, s, width, s).mean(axis=(1, 3))
        out[f] = cov[:, :, None] * colour[None, None, :]
    return out


def make_batch(rng: np.random.Generator, n: int, triples=None, **kw):
    """n clips [n, F, H, W, 3] and their specs; triples (a list) restricts the draw (default: seen triples)."""
    specs = []
    for _ in range(n):
        t = None if triples is None else triples[rng.integers(len(triples))]
        specs.append(sample_spec(rng, t, kw.get("height", HEIGHT), kw.get("width", WIDTH)))
    return np.stack([render(sp, **kw) for sp in specs]), specs
