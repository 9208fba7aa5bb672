"""The rater's page (``/listen``): a session joined from its link, trials played
and answered one by one, on a phone as on a desktop."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import soundfile as sf

from evaluation.listening.design import (
    CMOS_LABELS,
    DEFAULT_INSTRUCTIONS,
    scale,
)
from evaluation.listening.store import ListeningStore
from voiceclone.errors import VoiceCloneError
from webapp.listening import browser_secret, listening_store

MAX_SLOTS = 8
"""Most clips on one screen (MUSHRA: six systems, hidden reference, anchor)."""


MAX_TRAINING = 2


def _clip(path: Path):
    """A stored stimulus as ``(rate, int16)`` so Gradio serves a copy (the
    store's folder, with its database, is never exposed)."""
    audio, sr = sf.read(path, dtype="int16")
    return sr, audio


def query_param(request: gr.Request | None, key: str) -> str:
    if request is None:
        return ""
    return str(request.query_params.get(key, "") or "").strip()


class RaterPage:
    """Components of the rater page and the handlers that drive them."""

    def __init__(self) -> None:
        self.title = gr.Markdown(elem_id="rt-title")
        self.progress = gr.Markdown(elem_id="rt-progress")
        self.known = gr.BrowserState(
            {}, storage_key="voiceclone-listening-raters", secret=browser_secret()
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
        session_id = query_param(request, "s")
        try:
            store = listening_store()
            session = store.session(session_id)
            known = dict(known or {})
            rater = query_param(request, "rater") or known.get(session_id, "")
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
            store = listening_store()
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
            listening_store().record_play(ctx["session"], ctx["rater"], trial, stimulus)

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
        store = listening_store()
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
    def _choices(test_type: str):
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
