"""Where the app writes and which device it uses when deployed: on a Hugging
Face Space (persistent storage or not) and on a ZeroGPU Space, where torch
must stay on the CPU outside a GPU task."""

from __future__ import annotations

from voiceclone import warmup
from voiceclone.runtime import device, paths


def test_data_home_order(tmp_path, monkeypatch):
    storage = tmp_path / "data"
    monkeypatch.setattr(paths, "SPACE_STORAGE", storage)
    monkeypatch.delenv("VOICECLONE_HOME", raising=False)
    monkeypatch.delenv("SPACE_ID", raising=False)
    assert paths.data_home() == paths.PROJECT_ROOT / "data"
    monkeypatch.setenv("SPACE_ID", "someone/voiceclone")
    assert paths.data_home() == paths.PROJECT_ROOT / "data"  # no persistent storage
    storage.mkdir()
    assert paths.data_home() == storage / "voiceclone"  # kept across restarts
    monkeypatch.setenv("VOICECLONE_HOME", str(tmp_path / "mine"))
    assert paths.data_home() == tmp_path / "mine"  # an explicit home always wins


def test_zero_gpu_keeps_torch_on_the_cpu_outside_a_gpu_task(monkeypatch):
    monkeypatch.delenv("VOICECLONE_DEVICE", raising=False)
    monkeypatch.setenv(device.ZERO_GPU_ENV, "true")
    monkeypatch.setattr(device, "_in_gpu_task", False)
    assert device.zero_gpu()
    assert device.torch_device() == "cpu"
    device.enter_gpu_task()  # what a GPU task's own process does first
    assert device.torch_device() == "cuda"
    monkeypatch.setenv("VOICECLONE_DEVICE", "cpu")
    assert device.torch_device() == "cpu"  # a forced device wins


def test_gpu_task_is_the_function_itself_off_zero_gpu(monkeypatch):
    monkeypatch.setenv(device.ZERO_GPU_ENV, "0")

    def fit(x):
        return x * 2

    assert device.gpu_task(60)(fit) is fit


def test_a_failing_warm_up_step_is_logged_and_the_rest_run():
    lines = []

    def broken():
        raise OSError("disk full")

    steps = [("first", lambda: None), ("second", broken), ("third", lambda: None)]
    seconds = warmup._run(steps, "model files", lines.append)
    assert seconds >= 0
    assert lines[1] == "voiceclone: model files [2/3] second: failed (OSError: disk full)"
    assert lines[0].startswith("voiceclone: model files [1/3] first in ")
    assert lines[2].startswith("voiceclone: model files [3/3] third in ")
