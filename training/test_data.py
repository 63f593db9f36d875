"""Tests of the data generator and of the judge (run: cd training && python3 -m pytest -q test_data.py, or
python3 test_data.py)."""

import numpy as np

import data
from judge import judge, judge_clip


def test_vocabulary_and_held_out():
    assert len(data.all_triples()) == 7 * 3 * 4
    seen, held = data.seen_triples(), data.held_out_triples()
    assert len(held) == 4 * 3 and len(seen) == 84 - 12
    for c, s, d in seen:
        assert (c, d) not in data.HELD_OUT
    for pair in [("green", "up"), ("magenta", "left"), ("cyan", "down"), ("white", "right")]:
        assert pair in data.HELD_OUT
        assert sum(1 for c, s, d in held if (c, d) == pair) == 3  # every shape


def test_seeded():
    a, sa = data.make_batch(np.random.default_rng(7), 5)
    b, sb = data.make_batch(np.random.default_rng(7), 5)
    c, _ = data.make_batch(np.random.default_rng(8), 5)
    assert sa == sb and np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_clip_properties():
    rng = np.random.default_rng(0)
    video, specs = data.make_batch(rng, 300)
    F, H, W = data.NUM_FRAMES, data.HEIGHT, data.WIDTH
    assert video.shape == (300, F, H, W, 3) and video.dtype == np.float32
    assert (F - 1) % 4 == 0 and F >= 9 and H >= 32 and W >= 32
    assert video.min() >= 0 and video.max() <= 1
    seen_sizes = []
    for clip, sp in zip(video, specs):
        assert (sp.colour, sp.direction) not in data.HELD_OUT  # default draw is seen pairs only
        col = np.asarray(data.PALETTE[sp.colour])
        # every pixel is black or a fraction of the shape's colour (black background, one colour)
        frac = clip.max(axis=-1)
        assert np.allclose(clip, frac[..., None] * col[None, None, None, :], atol=1e-6)
        fg = frac > 0.35
        # the shape is inside every frame: no coverage on the border rows/columns
        assert not clip[:, 0].any() and not clip[:, -1].any() and not clip[:, :, 0].any() and not clip[:, :, -1].any()
        ys, xs = np.mgrid[0:H, 0:W]
        c0 = np.array([xs[fg[0]].mean(), ys[fg[0]].mean()])
        c1 = np.array([xs[fg[-1]].mean(), ys[fg[-1]].mean()])
        d = c1 - c0
        dx, dy = data.DIRECTIONS[sp.direction]
        along = d[0] * dx + d[1] * dy
        across = abs(d[0] * dy) + abs(d[1] * dx)
        extent = W if dx else H
        assert along >= extent / 3 - 0.6, (sp, along)  # >= a third of the frame (centroid of a pixelated shape)
        assert sp.distance >= extent / 3
        assert across < 0.6
        # straight line at constant speed: centres move linearly
        cs = [sp.centre(f, F) for f in range(F)]
        steps = np.diff(np.asarray(cs), axis=0)
        assert np.allclose(steps, steps[0])
        seen_sizes.append(sp.size)
        cover = fg.reshape(F, -1).mean(axis=1)
        assert cover.min() >= 0.003 and cover.max() <= 0.40
    # random size and start
    assert np.std(seen_sizes) > 0.8
    assert len({round(sp.start[0], 3) for sp in specs}) > 250


def test_shapes_differ():
    rng = np.random.default_rng(1)
    masks = {}
    for shape in data.SHAPES:
        sp = data.ClipSpec("red", shape, "right", 11.0, (10.0, 16.0), 12.0)
        masks[shape] = data.render(sp)[0, ..., 0]
    area = {k: v.sum() for k, v in masks.items()}
    # square 121, circle pi*5.5^2 = 95, triangle 60.5 (pixel areas)
    assert abs(area["square"] - 121) < 3 and abs(area["circle"] - 95.0) < 3 and abs(area["triangle"] - 60.5) < 3
    tri = masks["triangle"]
    assert tri[11].sum() < tri[20].sum()  # apex up: narrower at the top


def test_judge_reads_every_ground_truth_clip():
    rng = np.random.default_rng(3)
    for triple in data.all_triples():  # seen and held-out pairs
        video, specs = data.make_batch(rng, 2, [triple])
        for r in judge(video, triple[0], triple[2]):
            assert r["pass"], (triple, r)


def test_judge_rejects():
    rng = np.random.default_rng(4)
    video, specs = data.make_batch(rng, 1, [("red", "circle", "left")])
    assert not judge(video, "blue", "left")[0]["pass"]
    assert not judge(video, "red", "right")[0]["pass"]
    still = np.repeat(video[:, :1], data.NUM_FRAMES, axis=1)  # no motion
    r = judge_clip(still[0])
    assert not r["ok"] and "displacement" in r["reason"]
    assert not judge_clip(np.zeros_like(video[0]))["ok"]  # nothing there
    assert not judge_clip(np.ones_like(video[0]))["ok"]  # everything foreground
    # one frame empty -> fails the every-frame cover rule
    gap = video[0].copy()
    gap[4] = 0
    assert not judge_clip(gap)["ok"]


if __name__ == "__main__":
    for name, fn in list(globals().items()):
        if name.startswith("test_"):
            fn()
            print("ok", name)
