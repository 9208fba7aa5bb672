"""The web app assembled: every tab, the named API endpoints, the queue, the
warm-up and the background fits; ``main`` serves it (``python app.py``)."""

from __future__ import annotations

import os
import sqlite3
import threading
import warnings
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from voiceclone import warmup
from voiceclone.limits import MAX_UPLOAD_BYTES
from webapp import clone as clone_page
from webapp import convert as convert_page
from webapp import detect as detect_page
from webapp import dub as dub_page
from webapp import evaluate as evaluate_page
from webapp import library as library_page
from webapp import listening as listening_page
from webapp import openai_api, retention
from webapp import rating as rating_page
from webapp import results as results_page
from webapp import script as script_page
from webapp import session as visitor
from webapp import train as train_page
from webapp.uploads import UploadGuard
from webapp.voices import VOICE_PICKER, fit_tick, list_voices_json, voice_choices

warnings.filterwarnings("ignore", message=".*pkg_resources is deprecated.*")

MAX_UPLOAD = f"{MAX_UPLOAD_BYTES // 2**20}mb"


CONCURRENCY = int(os.environ.get("VOICECLONE_CONCURRENCY", "2"))
"""Events of one kind (clone, speak, score...) that run at once; the rest wait
in the queue. Measured with 8 clients at once on 2 cores (docs/BENCHMARKS.md,
"The web app under load"): limits 1, 2 and 4 all end near the CPU-bound floor
and differ by less than the run-to-run spread; 1 would let one slow fitted
enrolment hold every other visitor's clone, 4 raises the median flow by 16 %
and runs four models' threads on two cores. 2 it is."""


QUEUE_SIZE = 48
"""Most events waiting at once: at the measured 4.8 clone-speak-score flows a
minute (3 events each), a full queue drains in about 3 minutes; a visitor
beyond it is told the app is busy rather than left waiting longer."""


CACHE_CLEANUP = (3600, 86_400)
"""Gradio's own copies of uploads and outputs: checked hourly, removed after a day."""


ABOUT = Path(__file__).resolve().parents[1] / "docs" / "ABOUT.md"


def build_app() -> gr.Blocks:
    """Build the Blocks UI (no models are loaded here). Tabs in the order of the
    job: clone and speak, convert, dub, script, train, evaluate, detect, listening tests,
    library, about. Every action is a named API endpoint (see the README)."""
    with gr.Blocks(title="voiceclone", delete_cache=CACHE_CLEANUP) as demo:
        gr.Markdown(
            "# voiceclone\nHear any text in a voice cloned from a short recording. Press "
            "**Speak** to hear the example voice, or upload or record 10-30 s of one person "
            "speaking and press **Clone this voice**."
        )
        with gr.Tab("Clone and speak", id="clone"):
            clone = clone_page.tab()
        with gr.Tab("Convert", id="convert"):
            convert = convert_page.tab()
        with gr.Tab("Dub", id="dub"):
            dub = dub_page.tab(VOICE_PICKER)
        with gr.Tab("Script", id="script"):
            script_text, script_cast = script_page.tab()
        with gr.Tab("Train", id="train"):
            train_voice = train_page.tab()
        with gr.Tab("Evaluate", id="evaluate"):
            evaluate_page.tab()
        with gr.Tab("Detect", id="detect"):
            detect_page.tab()
        with gr.Tab("Listening tests", id="listening"):
            lt_voices, lt_sessions = listening_page.designer_tab()
        with gr.Tab("Voice library", id="library"):
            library = library_page.tab()
        with gr.Tab("About", id="about"):
            about = ABOUT.read_text(encoding="utf-8")
            about = about.replace("{retention}", retention.announcement())
            gr.Markdown(about.replace("{quota}", retention.quota()), elem_id="about")
        pickers = [clone.voice, convert, dub.voice, train_voice, library.voice, lt_voices]
        pickers.append(library.table)
        clone_page.wire(clone, pickers)
        library_page.wire(library, pickers)
        demo.load(voice_choices, inputs=None, outputs=pickers, api_visibility="private").then(
            **clone_page.fit_panel_event(clone)
        )
        clone.fit_timer.tick(
            fit_tick,
            inputs=[clone.voice, clone.fit_shown],
            outputs=[*pickers, clone.fit_status, clone.fit_shown, clone.fit_timer],
            show_progress="hidden",
            api_visibility="private",
        )
        demo.load(
            listening_page.designer_refresh, inputs=None, outputs=[lt_voices, lt_sessions],
            api_visibility="private",
        )  # fmt: skip
        demo.load(
            script_page.cast_rows, inputs=[script_text, script_cast], outputs=script_cast,
            api_visibility="private",
        )  # fmt: skip
        demo.load(
            library_page.api_keys, inputs=None, outputs=library.keys, api_visibility="private"
        )
        demo.load(
            library_page.lexicon_rows, inputs=None, outputs=library.lexicon,
            api_visibility="private",
        )  # fmt: skip
        gr.api(list_voices_json, api_name="voices")
        demo.unload(visitor.end_session)
    with demo.route("Listen", "/listen", show_in_navbar=False):
        rating_page.rater_page(demo)
    with demo.route("Results", "/results", show_in_navbar=False):
        results_page.results_page(demo)
    return demo


def _start_jobs() -> None:
    """Put fits cut short by a restart back in the queue and start the worker
    (or send them to the Dask cluster), then keep watching that queued fits
    have a worker (:func:`voiceclone.jobs.supervise`); the app serves even
    when this fails."""
    from voiceclone import jobs

    try:
        requeued = jobs.start_background()
    except (OSError, sqlite3.Error) as exc:
        print(f"voiceclone: background jobs not started ({exc})", flush=True)
    else:
        if requeued:
            print(f"voiceclone: {len(requeued)} unfinished fit(s) queued again", flush=True)
    stop = threading.Event()  # the app runs until its process ends
    threading.Thread(
        target=jobs.supervise, args=(stop,), name="voiceclone-jobs", daemon=True
    ).start()


def main() -> None:
    # The model files are joined before the port opens, so no visitor's
    # request waits on them; the models load once the page is served.
    seconds = warmup.assemble_models(log)
    log(f"voiceclone: model files ready in {seconds:.1f} s")
    for line in finish_interrupted():
        log(f"voiceclone: {line}")
    demo = build_app().queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "0.0.0.0"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        max_file_size=MAX_UPLOAD,
        show_error=True,
        css=listening_page.CSS,
        head=visitor.HEAD,
        prevent_thread_lock=True,
        app_kwargs={"middleware": [Middleware(UploadGuard)]},
    )
    openai_api.mount(demo.app)
    print("voiceclone: serving; warming up the models", flush=True)
    _start_jobs()
    retention.prune_daily()
    seconds = warmup.load_models(clone_page.EXAMPLE_VOICE, log)
    log(f"voiceclone: warm in {seconds:.1f} s")
    demo.block_thread()


def finish_interrupted() -> list[str]:
    """Before serving: mend what a server killed mid-write left (a voice moved
    aside for a replacement that never came back, unfinished temporary
    files, a listening session never finished), in the shared library and
    every visitor's."""
    from voiceclone.voices.store import finish_interrupted as mend_library

    done = mend_library(None)
    root = retention.visitors_root()
    if root.is_dir():
        for library in sorted(root.glob("*/voices")):
            done += [f"{library.parent.name}: {line}" for line in mend_library(library)]
    return done + listening_page.listening_store().finish_interrupted()


def log(line: str) -> None:
    """A line of the app's log (a Space shows it under *Logs*)."""
    print(line, flush=True)


if __name__ == "__main__":
    main()
