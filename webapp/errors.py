"""The web app's error boundary: library errors become one-line ``gr.Error``
messages, anything else a short "something went wrong" line; never a traceback."""

from __future__ import annotations

import functools
import inspect

import gradio as gr

from voiceclone.errors import VoiceCloneError


def friendly_errors(fn):
    """Turn library errors into a one-line gr.Error; never show a traceback.
    Generator handlers stay generators (Gradio streams them)."""

    def translate(exc: Exception) -> gr.Error:
        if isinstance(exc, VoiceCloneError):
            return gr.Error(str(exc))
        return gr.Error(f"something went wrong: {type(exc).__name__}: {exc}")

    if inspect.isgeneratorfunction(fn):

        @functools.wraps(fn)
        def streaming(*args, **kwargs):
            try:
                yield from fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as exc:  # noqa: BLE001 - the UI boundary: never a traceback
                raise translate(exc) from None

        return streaming

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:  # noqa: BLE001 - the UI boundary: never a traceback
            raise translate(exc) from None

    return wrapper
