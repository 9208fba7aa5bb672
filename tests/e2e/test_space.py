"""The app as a Hugging Face Space runs it: a fresh environment built only from
``packages.txt`` (apt) and ``requirements.txt`` (pip), the repository's files
copied into an empty folder, ``python app.py`` started there with a Space's
environment (no ``VOICECLONE_HOME``, an empty data folder, ``SPACE_ID`` set),
and the main flows driven through ``gradio_client``: a quick and a fitted
clone, speech, conversion, a dub of a two-cue SRT, scores, the watermark
check and a listening session.

The environment is built by ``scripts/space_env.sh`` into
``$VOICECLONE_SPACE_VENV`` (default ``.space-venv``), again only when
``requirements.txt`` or ``packages.txt`` changed. What it measures (install
time and size, start-up, warm-up, the fit, peak memory) is written to
``$VOICECLONE_ARTIFACTS/space-check.json``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.e2e.test_app import ROOT, _free_port, _http_status, _log_tail, stop

pytestmark = [pytest.mark.space, pytest.mark.slow]

SPACE_VENV = Path(os.environ.get("VOICECLONE_SPACE_VENV", ROOT / ".space-venv"))
ARTIFACTS = Path(os.environ.get("VOICECLONE_ARTIFACTS", "/tmp/voiceclone-artifacts"))
BUILD_TIMEOUT_S = 1800
START_TIMEOUT_S = 300
FIT_TIMEOUT_S = 900
SENTENCE = "The birch canoe slid on the smooth planks."
SRT = """1
00:00:00,500 --> 00:00:03,000
Hello, and welcome to the show.

2
00:00:03,500 --> 00:00:06,500
Today we talk about voices.
"""

FIGURES: dict = {}
"""What the check measured, written out when the module ends."""


def _pid_memory_mb(pid: int) -> tuple[float, float] | None:
    """(resident now, peak resident) of a live process, in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    kb = {k: int(v.split()[0]) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(.*)$", status, re.M)}
    return kb.get("VmRSS", 0) / 1024, kb.get("VmHWM", 0) / 1024


def _worker_pids(app_dir: Path) -> list[int]:
    """Processes running ``python -m voiceclone worker`` from the Space's folder."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().split(b"\0")
            cwd = os.readlink(proc / "cwd")
        except OSError:
            continue
        if b"voiceclone" in cmd and b"worker" in cmd and cwd == str(app_dir):
            pids.append(int(proc.name))
    return pids


@pytest.fixture(scope="module")
def space_python() -> Path:
    """The Space-style environment's interpreter (built or reused)."""
    started = time.monotonic()
    proc = subprocess.run(
        ["bash", str(ROOT / "scripts" / "space_env.sh"), str(SPACE_VENV)],
        capture_output=True, text=True, timeout=BUILD_TIMEOUT_S,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    FIGURES["environment"] = {
        **json.loads((SPACE_VENV / "space-env.json").read_text()),
        "built_now": "up to date" not in proc.stdout,
        "script_s": round(time.monotonic() - started, 1),
    }
    return SPACE_VENV / "bin" / "python"


@pytest.fixture(scope="module")
def space_dir(tmp_path_factory) -> Path:
    """The repository's files (tracked, and new ones git does not ignore) in
    an empty folder, as a Space clones them; no data folder, no caches."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, check=True,
    ).stdout.decode().split("\0")  # fmt: skip
    target = tmp_path_factory.mktemp("space") / "app"
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


@pytest.fixture(scope="module")
def space_app(space_python, space_dir, tmp_path_factory):
    """``python app.py`` in the Space's folder with a Space's environment;
    yields (url, process, log path). A fit there uses the brief preset."""
    home = tmp_path_factory.mktemp("space-user")
    port = _free_port()
    url = f"http://127.0.0.1:{port}/"
    env = {
        "PATH": f"{space_python.parent}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "SPACE_ID": "voiceclone-check/voiceclone",
        "SYSTEM": "spaces",
        "GRADIO_SERVER_NAME": "127.0.0.1",
        "GRADIO_SERVER_PORT": str(port),
        "GRADIO_ANALYTICS_ENABLED": "False",
        "PYTHONUNBUFFERED": "1",
        "VOICECLONE_FIT": "brief",
    }
    log_path = home / "app.log"
    started = time.monotonic()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [str(space_python), "app.py"], cwd=space_dir, env=env, stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        while _http_status(url) != 200:
            if proc.poll() is not None:
                pytest.fail(f"app.py exited with {proc.returncode}:\n{_log_tail(log_path)}")
            if time.monotonic() - started > START_TIMEOUT_S:
                pytest.fail(f"app.py did not start in {START_TIMEOUT_S} s:\n{_log_tail(log_path)}")
            time.sleep(0.5)
        served = time.monotonic() - started
        while "voiceclone: warm in" not in log_path.read_text(errors="replace"):
            if time.monotonic() - started > START_TIMEOUT_S or proc.poll() is not None:
                pytest.fail(f"app.py did not warm up:\n{_log_tail(log_path)}")
            time.sleep(0.5)
        FIGURES["start"] = {
            "served_s": round(served, 1),
            "warm_s": round(time.monotonic() - started, 1),
            "app_mb_warm": round(_pid_memory_mb(proc.pid)[0]),
        }
        yield url, proc, log_path
    finally:
        for pid in _worker_pids(space_dir):
            os.kill(pid, 9)
        stop(proc)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        (ARTIFACTS / "space-check.json").write_text(json.dumps(FIGURES, indent=2))
        shutil.copyfile(log_path, ARTIFACTS / "space-app.log")


@pytest.fixture(scope="module")
def client(space_app):
    from gradio_client import Client

    return Client(space_app[0], verbose=False)


@pytest.fixture(scope="module")
def slt(corpus):
    return corpus.select("slt", "reference")


def _clone(client, slt, name: str, fit: bool) -> str:
    from gradio_client import handle_file

    paths = [str(u.path) for u in slt[:4]]
    status, voice = client.predict(
        reference=handle_file(paths[0]), more_clips=[handle_file(p) for p in paths[1:]],
        name=name, consent=True, fit_voice=fit, api_name="/clone",
    )  # fmt: skip
    assert voice == name, status
    return status


@pytest.fixture(scope="module")
def quick_voice(client, slt) -> str:
    status = _clone(client, slt, "space quick", fit=False)
    assert "quick clone" in status and "It speaks now" in status
    return "space quick"


@pytest.fixture(scope="module")
def fitting_voice(client, slt) -> tuple[str, float]:
    """A voice whose fit is queued at once: it runs while the other flows do."""
    status = _clone(client, slt, "space fitted", fit=True)
    assert "on its way" in status, status
    return "space fitted", time.monotonic()


def _audio(path: str) -> np.ndarray:
    audio, _ = sf.read(path, dtype="float32")
    return audio


def test_the_environment_is_requirements_txt_alone(space_python):
    """pip finds nothing broken, the app's optional parts import (the torch
    Kokoro the fit needs among them), and no test tool was installed."""
    check = subprocess.run(
        [str(space_python), "-m", "pip", "check"], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    code = "import kokoro.model, misaki, spaces, faster_whisper, gradio; import pytest"
    proc = subprocess.run([str(space_python), "-c", code], capture_output=True, text=True)
    assert "No module named 'pytest'" in proc.stderr, proc.stderr


def test_the_model_files_are_assembled_before_the_port_opens(space_app, space_dir):
    """The first start joins every split model into the app's own data
    folder, each step timed in the log, and loads the models after."""
    log = space_app[2].read_text(errors="replace")
    assert re.search(r"model files \[3/3\] Kokoro torch weights.* in [\d.]+ s", log), log
    assert log.index("model files ready") < log.index("serving")
    assert "failed" not in log, log
    cache = space_dir / "data" / "cache"
    assert (cache / "whisper-base" / "model.bin").is_file()
    assert len(list((cache / "kokoro").glob("*.sha256"))) == 2


def test_quick_clone_speaks_and_carries_the_watermark(client, quick_voice, fitting_voice):
    from gradio_client import handle_file

    started = time.monotonic()
    _, wav = client.predict(voice_name=quick_voice, text=SENTENCE, api_name="/speak")
    FIGURES.setdefault("flows_s", {})["speak"] = round(time.monotonic() - started, 1)
    audio = _audio(wav)
    assert len(audio) / sf.info(wav).samplerate > 1.0 and np.abs(audio).max() > 0.05
    _, found = client.predict(clip=handle_file(wav), api_name="/detect")
    assert found["watermarked"], found


def test_convert_re_speaks_a_clip_in_the_voice(client, quick_voice, corpus):
    from gradio_client import handle_file

    source = corpus.select("rms", "reference")[0]
    started = time.monotonic()
    out = client.predict(
        voice_name=quick_voice, source=handle_file(str(source.path)), pitch=0,
        method="respeak", api_name="/convert",
    )  # fmt: skip
    FIGURES.setdefault("flows_s", {})["convert"] = round(time.monotonic() - started, 1)
    seconds = sf.info(out).duration
    assert abs(seconds - sf.info(str(source.path)).duration) < 1.5


def test_dub_speaks_two_cues_at_their_times(client, quick_voice, tmp_path):
    from gradio_client import handle_file

    srt = tmp_path / "two.srt"
    srt.write_text(SRT, encoding="utf-8")
    rows, note = client.predict(subtitles=handle_file(str(srt)), media=None, api_name="/dub_cues")
    assert "2 cues" in note and len(rows["data"]) == 2
    started = time.monotonic()
    summary, track, video, files, timings = client.predict(
        voice_name=quick_voice, rows=rows, media=None, from_source=False, consent=False,
        max_speed=1.25, mix=False, api_name="/dub",
    )  # fmt: skip
    FIGURES.setdefault("flows_s", {})["dub"] = round(time.monotonic() - started, 1)
    assert video is None and len(files) == 3
    audio, rate = sf.read(track)
    second = audio[int(3.6 * rate) : int(6.0 * rate)]
    assert np.abs(audio[: int(0.4 * rate)]).max() < 0.01  # silent before the first cue
    assert np.abs(second).max() > 0.05  # the second cue speaks in its slot
    assert [row[0] for row in timings["data"]] == [1, 2]


def test_a_script_speaks_two_voices_in_turn(client, quick_voice):
    """/script: a saved voice and the example take turns; the downloads are
    the mixed track and each speaker's track in the chosen format, and the report."""
    script = "ANNA: Good morning, and welcome. [pause 1s] Shall we start?\nBOB: Yes, let us begin."
    cast = {
        "headers": ["speaker", "voice"],
        "data": [["ANNA", quick_voice], ["BOB", "example-slt"]],
    }
    started = time.monotonic()
    track, files, report, _plot = client.predict(
        script=script, cast=cast, language="auto", pause_s=0.4, extension=".mp3",
        api_name="/script",
    )  # fmt: skip
    FIGURES.setdefault("flows_s", {})["script"] = round(time.monotonic() - started, 1)
    names = sorted(Path(f).name for f in files)
    assert names == ["ANNA.mp3", "BOB.mp3", "script.mp3", "script.timing.csv"]
    assert [row[1] for row in report["data"]] == ["ANNA", "BOB"]
    bob_starts = report["data"][1][3]
    audio, rate = sf.read(track)
    assert abs(len(audio) / rate - report["data"][1][4]) < 0.1
    assert (
        np.abs(audio[int((bob_starts - 0.3) * rate) : int((bob_starts - 0.05) * rate)]).max() < 0.02
    )


def test_scores_a_clip_against_its_reference(client, slt):
    from gradio_client import handle_file

    clean = str(slt[0].path)
    audio, rate = sf.read(clean)
    noisy = Path(clean).with_name("noisy-copy.wav")
    rng = np.random.default_rng(0)
    sf.write(noisy, audio + rng.normal(0, 0.05, len(audio)), rate)
    table, _plot, csv_path = client.predict(
        reference=handle_file(clean), candidates=[handle_file(clean), handle_file(str(noisy))],
        text="", speaker_reference=None, metric_set="cheap", api_name="/evaluate",
    )  # fmt: skip
    pesq = next(r for r in table["data"] if r[0].lower().startswith("pesq"))
    values = [float(v) for v in pesq[3:]]  # metric, unit, better, then one column a clip
    assert values[0] > values[1] + 1.0  # the clean copy scores far above the noisy one
    assert Path(csv_path).is_file()


def test_creates_a_listening_session(client, quick_voice):
    status, rater, admin, _ = client.predict(
        name="Space check", test_type="mos", instructions="Rate the naturalness.",
        source="saved voices", voices=[quick_voice], include_base=True,
        sentences=SENTENCE, uploads=None, ratings_per_stimulus=2, trials_per_rater=0,
        randomise=True, training=False, traps=0, api_name="/listening_create",
    )  # fmt: skip
    assert rater.startswith("http") and "Space check" in status, (status, rater)
    assert admin and admin != rater


def test_the_fitted_voice_arrives_and_speaks(client, fitting_voice, space_app, space_dir):
    """The fit queued at the start ran in the worker the app started (the
    torch Kokoro from requirements.txt alone), and the voice speaks."""
    name, submitted = fitting_voice
    deadline = submitted + FIT_TIMEOUT_S
    peak = 0.0
    while True:
        fit = {v["name"]: v for v in client.predict(api_name="/voices")}[name]["fit"]
        for pid in _worker_pids(space_dir):
            peak = max(peak, (_pid_memory_mb(pid) or (0, 0))[1])
        if fit["state"] not in ("queued", "running"):
            break
        assert time.monotonic() < deadline, fit
        time.sleep(3)
    assert fit["state"] in ("fitted", "kept-quick"), fit
    assert fit["similarity"]["fitted"] > 0.5, fit
    app_mb = _pid_memory_mb(space_app[1].pid)
    FIGURES["fit"] = {
        "state": fit["state"],
        "similarity": fit["similarity"],
        "seconds": fit.get("seconds"),
        "submitted_to_done_s": round(time.monotonic() - submitted, 1),
        "worker_peak_mb": round(peak),
    }
    FIGURES["memory"] = {"app_mb_now": round(app_mb[0]), "app_mb_peak": round(app_mb[1])}
    _, wav = client.predict(voice_name=name, text=SENTENCE, api_name="/speak")
    assert np.abs(_audio(wav)).max() > 0.05
