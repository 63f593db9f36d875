"""Tests of train.py: its flag checks, and two runs end to end at toy sizes (about a minute on an idle CPU in all).
Needs diffusers on PYTHONPATH as train.py does (run: cd training && PYTHONPATH=/path/to/diffusers/src python3 -m
pytest -q test_train.py, or python3 test_train.py); without diffusers, pytest skips the module."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
TRAIN = os.path.join(HERE, "train.py")
TOY = ["--vae-batch", "1", "--batch", "2", "--cache-clips", "8"]  # --cache-clips under 64: one short batch

try:
    import diffusers  # noqa: F401
except ImportError:
    if __name__ != "__main__":
        import pytest

        pytest.skip("diffusers is not importable (set PYTHONPATH to diffusers/src)", allow_module_level=True)
    raise


def run(*flags):
    return subprocess.run([sys.executable, TRAIN, *flags], capture_output=True, text=True, timeout=300)


def old_pipeline(folder):
    """A stand-in for an existing pipeline folder: model_index.json plus a file the new run does not write."""
    os.makedirs(os.path.join(folder, "vae"))
    with open(os.path.join(folder, "model_index.json"), "w") as f:
        f.write('{"old": true}')
    with open(os.path.join(folder, "vae", "old.txt"), "w") as f:
        f.write("old")


def test_small_cache_zero_steps_replaces_out_whole():
    # --cache-clips 8 (< 64) used to crash after phase A (the reconstruction check drew 64 clips); --steps 0 used to
    # crash at the final print. Both end cleanly now, and the finished folder replaces --out whole. --out is a
    # symlink here: the link used to be renamed away and replaced by a real folder, then rmtree refused the link
    # (a traceback and exit 1 after a finished run); now the link's target is replaced and the link kept.
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "m")
        old_pipeline(out)
        link = os.path.join(tmp, "link")
        os.symlink("m", link)
        r = run("--out", link, "--vae-steps", "1", "--steps", "0", *TOY)
        assert r.returncode == 0, r.stderr[-2000:]
        assert "[cache] 8 clips encoded" in r.stdout
        assert "final loss (avg) n/a (0 steps: the transformer as initialised or loaded)" in r.stdout
        assert r.stdout.rstrip().splitlines()[-1] == f"[out] wrote {link}"
        assert sorted(os.listdir(tmp)) == ["link", "m"]  # no partial or old folder left beside it
        assert os.readlink(link) == "m"
        assert sorted(os.listdir(out)) == ["model_index.json", "scheduler", "text_encoder", "tokenizer",
                                           "transformer", "vae"]
        assert not os.path.exists(os.path.join(out, "vae", "old.txt"))
        assert json.load(open(os.path.join(out, "model_index.json")))["_class_name"] == "WanPipeline"
        cfg = json.load(open(os.path.join(out, "vae", "config.json")))
        assert cfg["latents_std"][0] != 2.8184  # the model's own statistics, not the constructor's Wan2.1 ones
        assert oct(os.stat(out).st_mode & 0o777) != oct(0o700)  # a plain folder's permissions, not mkdtemp's


def test_interrupt_leaves_out_unchanged():
    # Ctrl-C in phase C (after the first whole-pipeline save) used to leave that pipeline in --out.
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "m")
        old_pipeline(out)
        p = subprocess.Popen([sys.executable, TRAIN, "--out", out, "--vae-steps", "0", "--steps", "100000", *TOY],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 240
        for line in p.stdout:  # "[dit] step 0 ..." comes after the pipeline was saved
            if line.startswith("[dit] step") or time.time() > deadline:
                break
        p.send_signal(signal.SIGINT)
        _, err = p.communicate(timeout=120)
        assert sorted(os.listdir(out)) == ["model_index.json", "vae"], err[-2000:]
        assert open(os.path.join(out, "model_index.json")).read() == '{"old": true}'
        assert os.listdir(os.path.join(out, "vae")) == ["old.txt"]
        assert p.returncode == 130, err[-2000:]
        partial = [n for n in os.listdir(tmp) if n != "m"]
        assert len(partial) == 1 and partial[0].startswith("m.partial-")
        assert err.rstrip().splitlines()[-1] == (
            f"train.py: interrupted; --out {out} is unchanged; what was saved so far is in "
            f"{os.path.join(tmp, partial[0])} (--vae-from / --transformer-from can resume from it)")
        assert os.path.isfile(os.path.join(tmp, partial[0], "transformer", "config.json"))


def refused(*flags):
    """train.parse_args in this process (no run started): the exit status and the last stderr line."""
    import contextlib
    import io

    import train

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            train.parse_args(list(flags))
        except SystemExit as e:
            return e.code, err.getvalue().rstrip().splitlines()[-1]
    raise AssertionError(f"accepted: {flags}")


def test_bad_flags_refused_before_training():
    with tempfile.TemporaryDirectory() as tmp:
        m = os.path.join(tmp, "m")
        assert refused("--out", m, "--cache-clips", "0") == (
            2, "train.py: error: --cache-clips: expected an integer >= 1, got 0")
        assert refused("--out", m, "--steps", "-1") == (2, "train.py: error: --steps: expected an integer >= 0, got -1")
        with open(os.path.join(tmp, "notes.txt"), "w") as f:
            f.write("x")
        assert refused("--out", tmp) == (  # an unrelated, non-empty folder is never replaced
            2, f"train.py: error: --out {tmp}: exists and is not a pipeline folder (no model_index.json), so it "
               "will not be replaced; give a new folder, an empty one or a pipeline folder")
        assert refused("--out", m, "--vae-from", tmp) == (
            2, f"train.py: error: --vae-from {tmp}: no vae/config.json there (expected a pipeline folder)")
        assert sorted(os.listdir(tmp)) == ["notes.txt"]
        # a pipeline folder with files the run does not write (a hub clone's README, .git) used to lose them
        # silently when it was replaced; it is refused, naming them
        hub = os.path.join(tmp, "hub")
        old_pipeline(hub)
        os.makedirs(os.path.join(hub, ".git"))
        open(os.path.join(hub, "README.md"), "w").close()
        assert refused("--out", hub) == (
            2, f"train.py: error: --out {hub}: holds .git, README.md besides the pipeline's own files "
               "(model_index.json, scheduler, text_encoder, tokenizer, transformer, vae), which replacing it would "
               "delete; move them away or give another folder")
        link = os.path.join(tmp, "link")
        os.symlink(hub, link)  # checked at the link's target
        assert refused("--out", link)[1].startswith(f"train.py: error: --out {link}: holds .git, README.md besides")


def test_failed_removal_of_the_old_folder_only_warns():
    # The run has finished when the old folder is deleted: a failure there warns, naming it, and does not raise.
    import contextlib
    import io
    import shutil

    import train

    with tempfile.TemporaryDirectory() as tmp:
        out, work = os.path.join(tmp, "m"), os.path.join(tmp, "m.partial-abc")
        old_pipeline(out)
        os.makedirs(work)
        open(os.path.join(work, "model_index.json"), "w").close()

        def fail(path):
            raise PermissionError(13, "Permission denied", path)

        real, shutil.rmtree = shutil.rmtree, fail
        err = io.StringIO()
        try:
            with contextlib.redirect_stderr(err):
                train.move_into_place(work, out)
        finally:
            shutil.rmtree = real
        old = os.path.join(tmp, "m.old-abc")
        assert sorted(os.listdir(tmp)) == ["m", "m.old-abc"]
        assert os.listdir(out) == ["model_index.json"]
        assert err.getvalue().rstrip() == (
            f"train.py: warning: could not delete the previous pipeline folder {old} ([Errno 13] Permission denied: "
            f"'{old}'); {out} is the new one, delete the old one yourself")


if __name__ == "__main__":
    for name, fn in list(globals().items()):
        if name.startswith("test_"):
            fn()
            print("ok", name)
