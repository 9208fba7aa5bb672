"""The listening-test pages of the web app (Gradio wiring only; the work is in
:mod:`evaluation.listening`).

- :func:`designer_tab`: the *Listening* tab of the main page: design a test,
  get its rater link and its admin link;
- :func:`rater_page`: ``/listen?s=SESSION`` (phone-friendly, one trial at a time);
- :func:`results_page`: ``/results?s=SESSION&token=SECRET``.
"""

from __future__ import annotations

from pathlib import Path

import gradio as gr

from evaluation.listening.design import (
    DEFAULT_INSTRUCTIONS,
    TEST_NAMES,
    TEST_TYPES,
    DesignError,
    SessionDesign,
)
from evaluation.listening.manifest import extract_zip, parse_manifest, read_manifest
from evaluation.listening.records import SessionError
from evaluation.listening.store import ListeningStore
from webapp import session as visitor
from webapp.errors import friendly_errors

CSS = ".nav-holder { display: none !important; }"
"""The listening pages are reached by link only; the navbar (which
``gr.Navbar(visible=False)`` does not hide on a route page in Gradio 6.31)
would lead raters into the main app."""


def listening_store() -> ListeningStore:
    return ListeningStore()


def browser_secret() -> str:
    """The key the rater ids kept in browsers are encrypted with, stored beside
    the sessions so that a reload resumes even after the server restarts."""
    import os
    import secrets

    path = listening_store().root / ".browser-secret"
    if not path.is_file():
        tmp = path.with_name(f".browser-secret.{os.getpid()}.tmp")
        tmp.write_text(secrets.token_hex(16), encoding="utf-8")
        try:
            os.link(tmp, path)  # atomic; the first writer wins
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    return path.read_text(encoding="utf-8").strip()


def _base_url(request: gr.Request | None) -> str:
    if request is None:
        return ""
    headers = request.headers
    host = headers.get("x-forwarded-host") or headers.get("host") or ""
    scheme = headers.get("x-forwarded-proto") or "http"
    return f"{scheme}://{host}" if host else ""


# --------------------------------------------------------------------------- designer


@friendly_errors
@visitor.rate_limited
def create_session(
    name,
    test_type,
    instructions,
    source,
    voices,
    include_base,
    sentences,
    uploads,
    ratings_per_stimulus,
    trials_per_rater,
    randomise,
    training,
    traps,
    request: gr.Request,
    progress=gr.Progress(),
):
    """Designer: build the stimuli and store the session (listed for this
    visitor only); show the two links."""
    from evaluation.listening.stimuli import library_stimuli, split_sentences, trap_clips

    design = SessionDesign(
        name=(name or "").strip(),
        test_type=test_type,
        instructions=(instructions or "").strip() or DEFAULT_INSTRUCTIONS[test_type],
        ratings_per_stimulus=int(ratings_per_stimulus or 1),
        trials_per_rater=int(trials_per_rater) if trials_per_rater else None,
        randomise=bool(randomise),
        training=bool(training),
    )
    work = visitor.scratch(request, "listening-")
    if source == "saved voices":
        specs = library_stimuli(
            list(voices or []),
            split_sentences(sentences),
            work,
            include_base=bool(include_base),
            progress=lambda f, msg: progress(0.6 * f, desc=msg),
            library=visitor.library(request),
        )
        base, confine = None, False
    else:
        specs, base, confine = _uploaded_specs(uploads, work)
    if traps and int(traps) > 0:
        specs += trap_clips(test_type, int(traps), work / "traps", seed=design.seed)
    created = listening_store().create_session(
        design,
        specs,
        base,
        confine=confine,
        progress=lambda f, msg: progress(0.6 + 0.4 * f, desc=msg),
        owner=visitor.owner(request),
    )
    rater, admin = created.links(_base_url(request))
    message = (
        f"Created **{design.name}** ({TEST_NAMES[test_type]}), {created.trials} trials.\n\n"
        f"- Rater link (send this to listeners): [{rater}]({rater})\n"
        f"- Admin link (results; keep it secret, it is shown only once): [{admin}]({admin})"
    )
    return message, rater, admin, _session_rows(request)


@friendly_errors
def delete_session(session_id, request: gr.Request):
    """Remove one of this visitor's sessions (ratings and audio)."""
    session_id = str(session_id or "").strip()
    if not session_id:
        raise SessionError("type the id of the session to delete (the table's first column)")
    listening_store().delete_session(session_id, visitor.owner(request))
    return f"Deleted session {session_id}.", _session_rows(request)


def _uploaded_specs(uploads, work: Path):
    """A zip with ``manifest.csv`` and audio, or a manifest CSV plus the audio files.

    Returns ``(specs, base folder, confine)``: paths inside a zip must stay in
    it; a manifest's paths are matched to the uploaded files by name.
    """
    paths = [Path(p) for p in (uploads or [])]
    if not paths:
        raise DesignError("upload a zip (manifest.csv + audio) or a manifest CSV with its clips")
    zips = [p for p in paths if p.suffix.lower() == ".zip"]
    if zips:
        if len(paths) > 1:
            raise DesignError("upload the zip on its own")
        manifest = extract_zip(zips[0], work / "zip")
        specs, _ = read_manifest(manifest)
        return specs, manifest.parent, True
    manifests = [p for p in paths if p.suffix.lower() == ".csv"]
    if len(manifests) != 1:
        raise DesignError("upload exactly one manifest CSV with the clips")
    specs = parse_manifest(manifests[0].read_text(encoding="utf-8-sig"))
    by_name = {p.name: p for p in paths if p not in manifests}
    folder = work / "files"
    folder.mkdir(parents=True, exist_ok=True)
    for name, path in by_name.items():
        (folder / name).symlink_to(path)
    for spec in specs:
        for wanted in (spec.path, spec.reference):
            if wanted and Path(wanted).name not in by_name:
                raise DesignError(f"the manifest names {wanted}, which was not uploaded")
    specs = [
        type(s)(
            Path(s.path).name,
            s.system,
            s.item,
            s.kind,
            s.expected,
            Path(s.reference).name if s.reference else "",
        )
        for s in specs
    ]
    return specs, folder, False  # only uploaded names can be reached


def _session_rows(request: gr.Request | None):
    return [
        [
            s["session_id"],
            s["name"],
            s["test_type"],
            s["raters"],
            s["ratings"],
            s["created_at"][:19],
        ]
        for s in listening_store().sessions(visitor.owner(request))
    ]


def _voice_names(request: gr.Request | None):
    from voiceclone.voices.store import list_voices

    return [v["name"] for v in list_voices(visitor.library(request))]


def designer_tab() -> None:
    """The Listening tab: design a session; rater and admin links come back."""
    gr.Markdown(
        "Design a listening test. Raters open the **rater link** (phones work) and answer one "
        "trial at a time; the **admin link** shows screened results with confidence intervals. "
        "Or, from a terminal: `python -m evaluation listening create --manifest M.csv ...`."
    )
    with gr.Row():
        with gr.Column():
            name = gr.Textbox(label="Test name", value="Naturalness check", elem_id="lt-name")
            test_type = gr.Dropdown(
                [(TEST_NAMES[t], t) for t in TEST_TYPES], value="mos", label="Test type",
                elem_id="lt-type",
            )  # fmt: skip
            instructions = gr.Textbox(
                label="Instructions (Markdown; empty: the default for the type)", lines=2
            )
            source = gr.Radio(
                ["saved voices", "upload"], value="saved voices", label="Stimuli from",
                elem_id="lt-source",
            )  # fmt: skip
            with gr.Group(visible=True) as voices_group:
                voices = gr.Dropdown(
                    [], multiselect=True, label="Saved voices (instant and trained clones)",
                    elem_id="lt-voices", allow_custom_value=True,
                )  # fmt: skip
                include_base = gr.Checkbox(label="Include the base voice", value=True)
                sentences = gr.Textbox(
                    label="Sentences (one per line)", lines=3, elem_id="lt-sentences",
                    value="The birch canoe slid on the smooth planks.\n"
                    "Glue the sheet to the dark blue background.",
                )  # fmt: skip
            with gr.Group(visible=False) as upload_group:
                uploads = gr.File(
                    file_count="multiple", label="manifest.csv + clips, or one zip",
                    elem_id="lt-uploads",
                )  # fmt: skip
                gr.Markdown(
                    "Manifest columns: `path` (required), `system`, `item`, `kind` "
                    "(test/gold/trap/training), `expected` (gold/trap answer), `reference`."
                )
        with gr.Column():
            ratings = gr.Number(value=8, precision=0, label="Ratings wanted per trial")
            per_rater = gr.Number(value=0, precision=0, label="Trials per rater (0: all)")
            randomise = gr.Checkbox(value=True, label="Random order per rater")
            training = gr.Checkbox(value=True, label="Training step with anchors")
            traps = gr.Number(
                value=1,
                precision=0,
                label="Spoken trapping clips (MOS and SMOS)",
                elem_id="lt-traps",
            )
            create = gr.Button("Create the test", variant="primary", elem_id="lt-create")
            result = gr.Markdown(label="status", elem_id="lt-result")
            rater_link = gr.Textbox(label="Rater link", elem_id="lt-rater-link")
            admin_link = gr.Textbox(label="Admin link", elem_id="lt-admin-link")
    sessions = gr.Dataframe(
        headers=["session", "name", "type", "raters", "ratings", "created (UTC)"],
        label="Your sessions", interactive=False,
    )  # fmt: skip
    with gr.Row():
        doomed = gr.Textbox(
            label="Delete a session: its id from the table (its ratings and audio go too)",
            elem_id="lt-delete-id", scale=3,
        )  # fmt: skip
        delete = gr.Button("Delete the session", variant="stop", elem_id="lt-delete", scale=1)
    source.change(
        lambda s: (gr.update(visible=s == "saved voices"), gr.update(visible=s == "upload")),
        inputs=source,
        outputs=[voices_group, upload_group],
        api_visibility="private",
    )
    create.click(
        create_session,
        inputs=[
            name, test_type, instructions, source, voices, include_base, sentences, uploads,
            ratings, per_rater, randomise, training, traps,
        ],
        outputs=[result, rater_link, admin_link, sessions],
        api_name="listening_create",
    )  # fmt: skip
    delete.click(
        delete_session, inputs=doomed, outputs=[result, sessions], api_name="listening_delete"
    )
    return voices, sessions


def designer_refresh(request: gr.Request):
    """Voice choices and this visitor's sessions, refreshed when the page loads."""
    return gr.update(choices=_voice_names(request)), _session_rows(request)


# --------------------------------------------------------------------------- rater page


# --------------------------------------------------------------------------- results page
