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
import soundfile as sf

from evaluation.listening.design import (
    CMOS_LABELS,
    DEFAULT_INSTRUCTIONS,
    TEST_NAMES,
    TEST_TYPES,
    DesignError,
    SessionDesign,
    scale,
)
from evaluation.listening.manifest import extract_zip, parse_manifest, read_manifest
from evaluation.listening.records import SessionError
from evaluation.listening.store import ListeningStore
from voiceclone.errors import VoiceCloneError
from webapp import session as visitor
from webapp.errors import friendly_errors

MAX_SLOTS = 8
"""Most clips on one screen (MUSHRA: six systems, hidden reference, anchor)."""
MAX_TRAINING = 2
CSS = ".nav-holder { display: none !important; }"
"""The listening pages are reached by link only; the navbar (which
``gr.Navbar(visible=False)`` does not hide on a route page in Gradio 6.31)
would lead raters into the main app."""


def _store() -> ListeningStore:
    return ListeningStore()


def _browser_secret() -> str:
    """The key the rater ids kept in browsers are encrypted with, stored beside
    the sessions so that a reload resumes even after the server restarts."""
    import os
    import secrets

    path = _store().root / ".browser-secret"
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


def _clip(path: Path):
    """A stored stimulus as ``(rate, int16)`` so Gradio serves a copy (the
    store's folder, with its database, is never exposed)."""
    audio, sr = sf.read(path, dtype="int16")
    return sr, audio


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
    created = _store().create_session(
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
        for s in _store().sessions(visitor.owner(request))
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
        label="Sessions", interactive=False,
    )  # fmt: skip
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
    return voices, sessions


def designer_refresh(request: gr.Request):
    """Voice choices and this visitor's sessions, refreshed when the page loads."""
    return gr.update(choices=_voice_names(request)), _session_rows(request)


# --------------------------------------------------------------------------- rater page


def _query(request: gr.Request | None, key: str) -> str:
    if request is None:
        return ""
    return str(request.query_params.get(key, "") or "").strip()


class RaterPage:
    """Components of the rater page and the handlers that drive them."""

    def __init__(self) -> None:
        self.title = gr.Markdown(elem_id="rt-title")
        self.progress = gr.Markdown(elem_id="rt-progress")
        self.known = gr.BrowserState(
            {}, storage_key="voiceclone-listening-raters", secret=_browser_secret()
        )
        self.ctx = gr.State({})
        with gr.Group(visible=False) as self.training_box:
            gr.Markdown(
                "**Training.** Play each example before you start: they show the range of "
                "what you will hear."
            )
            self.training_audio = [
                gr.Audio(interactive=False, visible=False, elem_id=f"rt-train-{i}")
                for i in range(MAX_TRAINING)
            ]
            self.start = gr.Button("Start the test", variant="primary", elem_id="rt-start")
        with gr.Group(visible=False) as self.trial_box:
            self.reference = gr.Audio(
                label="Reference", interactive=False, visible=False, elem_id="rt-reference"
            )
            self.slots, self.sliders = [], []
            for i in range(MAX_SLOTS):
                with gr.Row(equal_height=True):
                    self.slots.append(
                        gr.Audio(interactive=False, visible=False, elem_id=f"rt-slot-{i}")
                    )
                    self.sliders.append(
                        gr.Slider(0, 100, value=50, step=1, visible=False, label="Score",
                                  elem_id=f"rt-score-{i}")
                    )  # fmt: skip
            self.choice = gr.Radio([], label="Your answer", elem_id="rt-choice")
            self.submit = gr.Button("Submit and continue", variant="primary", elem_id="rt-submit")
        self.done = gr.Markdown(visible=False, elem_id="rt-done")

    @property
    def outputs(self):
        return [
            self.title, self.progress, self.ctx, self.training_box, *self.training_audio,
            self.trial_box, self.reference, *self.slots, *self.sliders, self.choice, self.done,
        ]  # fmt: skip

    def wire(self, page: gr.Blocks) -> None:
        # The rater page's events need its link and its state: the browser's, not a script's.
        hidden = {"api_visibility": "undocumented"}
        page.load(
            self.open, inputs=[self.known], outputs=[*self.outputs, self.known],
            api_name="listening_open", **hidden,
        )  # fmt: skip
        self.start.click(
            self.begin, inputs=[self.ctx], outputs=self.outputs, api_name="listening_start",
            **hidden,
        )  # fmt: skip
        self.submit.click(
            self.answer,
            inputs=[self.ctx, self.choice, *self.sliders],
            outputs=self.outputs,
            concurrency_limit=None,
            api_name="listening_answer",
            **hidden,
        )
        played = {"fn": self.played, "queue": False, "api_visibility": "private"}
        for i, audio in enumerate(self.training_audio):
            audio.stop(inputs=[self.ctx, gr.State(f"train:{i}")], **played)
        self.reference.stop(inputs=[self.ctx, gr.State("ref")], **played)
        for i, audio in enumerate(self.slots):
            audio.stop(inputs=[self.ctx, gr.State(f"slot:{i}")], **played)

    # -- handlers

    def open(self, known: dict, request: gr.Request):
        session_id = _query(request, "s")
        try:
            store = _store()
            session = store.session(session_id)
            known = dict(known or {})
            rater = _query(request, "rater") or known.get(session_id, "")
            rater = store.join(session_id, rater)
        except VoiceCloneError as exc:
            return (*self._message(f"**{exc}**"), gr.skip())
        known[session_id] = rater
        ctx = {"session": session_id, "rater": rater, "type": session.test_type}
        instructions = session.design.instructions or DEFAULT_INSTRUCTIONS[session.test_type]
        title = f"## {session.design.name}\n{instructions}"
        return (*self._show(store, ctx, title), known)

    def begin(self, ctx: dict):
        try:
            store = _store()
            store.finish_training(ctx["session"], ctx["rater"])
        except VoiceCloneError as exc:
            gr.Warning(str(exc))
            return tuple(gr.skip() for _ in self.outputs)
        return self._show(store, ctx, gr.skip())

    def played(self, ctx: dict, which: str):
        if not ctx:
            return
        kind, _, index = which.partition(":")
        if kind == "train":
            trial, stimulus = "training", ctx["training"][int(index)]
        elif kind == "ref":
            trial, stimulus = ctx.get("trial"), ctx.get("reference")
        else:
            trial, stimulus = ctx.get("trial"), ctx["slots"][int(index)]
        if trial and stimulus:
            _store().record_play(ctx["session"], ctx["rater"], trial, stimulus)

    def answer(self, ctx: dict, choice, *scores):
        if not ctx or not ctx.get("trial"):
            return tuple(gr.skip() for _ in self.outputs)
        if ctx["type"] == "mushra":
            answer = {label: scores[i] for i, label in enumerate(ctx["labels"])}
        else:
            answer = choice
        if answer is None:
            gr.Warning("choose an answer first")
            return tuple(gr.skip() for _ in self.outputs)
        store = _store()
        try:
            store.submit(ctx["session"], ctx["rater"], ctx["trial"], answer)
        except VoiceCloneError as exc:
            gr.Warning(str(exc))
            return tuple(gr.skip() for _ in self.outputs)
        return self._show(store, ctx, gr.skip())

    # -- screens

    def _message(self, text: str):
        hidden = gr.update(visible=False)
        return (
            text, "", {}, hidden, *[hidden] * MAX_TRAINING, hidden, hidden,
            *[hidden] * MAX_SLOTS, *[hidden] * MAX_SLOTS, gr.update(), gr.update(visible=False),
        )  # fmt: skip

    def _show(self, store: ListeningStore, ctx: dict, title):
        """The screen for the rater's current state: training, a trial, or done."""
        sid, rater = ctx["session"], ctx["rater"]
        hidden = gr.update(visible=False)
        ctx = {k: ctx[k] for k in ("session", "rater", "type")}
        if store.needs_training(sid, rater):
            clips = store.training_clips(sid)[:MAX_TRAINING]
            ctx["training"] = [c.stimulus_id for c in clips]
            captions = {1.0: "Example of bad quality (1)", 5.0: "The reference: the best (5)"}
            audio = [
                gr.update(
                    value=_clip(c.path), label=captions.get(c.expected, "Example"), visible=True
                )
                for c in clips
            ] + [hidden] * (MAX_TRAINING - len(clips))
            return (
                title, "Training", ctx, gr.update(visible=True), *audio, hidden, hidden,
                *[hidden] * MAX_SLOTS, *[hidden] * MAX_SLOTS, gr.update(), hidden,
            )  # fmt: skip
        nxt = store.next_trial(sid, rater)
        if nxt is None:
            done = gr.update(
                value="### Thank you! All your answers are saved. You can close this page.",
                visible=True,
            )
            return (
                title, "Finished", ctx, hidden, *[hidden] * MAX_TRAINING, hidden, hidden,
                *[hidden] * MAX_SLOTS, *[hidden] * MAX_SLOTS, gr.update(), done,
            )  # fmt: skip
        stimuli = store.stimuli(sid)
        layout = nxt.layout
        test_type = ctx["type"]
        ctx.update(
            trial=layout.trial_id,
            slots=[s.stimulus for s in layout.slots],
            labels=[s.label for s in layout.slots],
            reference=layout.reference,
        )
        mushra = test_type == "mushra"
        slots, sliders = [], []
        for i in range(MAX_SLOTS):
            if i < len(layout.slots):
                slot = layout.slots[i]
                label = "Clip" if slot.label == "clip" else slot.label
                slots.append(
                    gr.update(value=_clip(stimuli[slot.stimulus].path), label=label, visible=True)
                )
                sliders.append(gr.update(visible=mushra, value=50, label=f"Score for {label}"))
            else:
                slots.append(hidden)
                sliders.append(hidden)
        reference = (
            gr.update(value=_clip(stimuli[layout.reference].path), visible=True)
            if layout.reference
            else hidden
        )
        choice = self._choices(test_type)
        bar = _bar(nxt.position, nxt.total)
        return (
            title, bar, ctx, hidden, *[hidden] * MAX_TRAINING, gr.update(visible=True), reference,
            *slots, *sliders, choice, hidden,
        )  # fmt: skip

    @staticmethod
    def picker_choices(test_type: str):
        if test_type == "mushra":
            return gr.update(visible=False, value=None)
        if test_type in ("ab", "abx"):
            labels = (
                [("A", "A"), ("B", "B")]
                if test_type == "ab"
                else [("X is A", "A"), ("X is B", "B")]
            )
            return gr.update(choices=labels, value=None, visible=True)
        items = scale(test_type).items()
        if test_type == "cmos":
            items = sorted(CMOS_LABELS.items(), reverse=True)
        return gr.update(
            choices=[(f"{v:+d} {t}" if test_type == "cmos" else f"{v} {t}", v) for v, t in items],
            value=None,
            visible=True,
        )


def _bar(position: int, total: int) -> str:
    done = position / max(total, 1)
    return (
        f"Trial **{position + 1} of {total}** "
        f"<progress value='{position}' max='{total}' style='width:100%'>{done:.0%}</progress>"
    )


def rater_page(demo: gr.Blocks) -> None:
    """Build the rater page inside ``demo``'s current route."""
    RaterPage().wire(demo)


# --------------------------------------------------------------------------- results page


def results_page(demo: gr.Blocks) -> None:
    """Build the admin results page inside ``demo``'s current route."""
    header = gr.Markdown(elem_id="rs-header")
    refresh = gr.Button("Refresh", elem_id="rs-refresh")
    summary = gr.Markdown(elem_id="rs-summary")
    systems = gr.Dataframe(label="Per system (screened): mean, 95 % t-CI and bootstrap CI",
                           elem_id="rs-systems", interactive=False)  # fmt: skip
    pairs = gr.Dataframe(
        label="Pairwise comparisons (Holm-adjusted p)", interactive=False, elem_id="rs-pairs"
    )
    ranking = gr.Dataframe(label="Ranking", interactive=False, elem_id="rs-ranking")
    with gr.Row():
        plot_systems = gr.Plot(label="Means with 95 % CI")
        plot_ranking = gr.Plot(label="Ranking")
    plot_votes = gr.Plot(label="Votes")
    raters = gr.Dataframe(label="Raters and screening", interactive=False, elem_id="rs-raters")
    stimuli = gr.Dataframe(label="Ratings per stimulus", interactive=False)
    files = gr.File(label="Export (CSV, JSON)", file_count="multiple", elem_id="rs-files")
    outputs = [header, summary, systems, pairs, ranking, plot_systems, plot_ranking, plot_votes,
               raters, stimuli, files]  # fmt: skip
    demo.load(
        show_results, inputs=None, outputs=outputs, api_name="listening_results",
        api_visibility="undocumented",
    )  # fmt: skip
    refresh.click(show_results, inputs=None, outputs=outputs, api_visibility="private")


def _display(table, digits: int = 3):
    """A result table for the page: rounded, with missing values shown as 'n/a'
    (e.g. a bootstrap interval with too few raters)."""
    if table is None or table.empty:
        return None
    return table.round(digits).astype(object).where(table.notna(), "n/a")


@friendly_errors
def show_results(request: gr.Request):
    """Every number here comes from the stored ratings, recomputed on each load."""
    from evaluation.listening.export import analyse_session, export_session

    session_id, token = _query(request, "s"), _query(request, "token")
    store = _store()
    blank = [gr.skip()] * 10
    if not session_id or not store.check_token(session_id, token):
        return "### This results link is not valid (wrong session or token).", *blank
    session = store.session(session_id)
    progress = store.progress(session_id)
    header = (
        f"## {session.design.name}: {TEST_NAMES[session.test_type]}\n"
        f"{progress['raters']} raters joined, {progress['finished']} finished; the least-rated "
        f"trial has {progress['min_ratings']} ratings ({progress['wanted']} wanted"
        + (", complete)." if progress["complete"] else ").")
    )
    try:
        result = analyse_session(store, session_id)
    except (ValueError, SessionError) as exc:
        return header, f"**{exc}**", *[gr.skip()] * 9
    out = visitor.scratch(request, "results-")
    paths = export_session(store, session_id, out, result)
    return (
        header,
        "\n".join(f"- {line}" for line in result.analysis.summary.splitlines() if line.strip()),
        _display(result.analysis.systems),
        _display(result.analysis.pairs, 4),
        _display(result.analysis.ranking),
        result.figures.get("systems"),
        result.figures.get("ranking"),
        result.figures.get("votes"),
        _display(result.analysis.raters),
        _display(result.analysis.stimuli),
        [str(p) for p in paths],
    )
