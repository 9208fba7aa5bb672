"""The language choice of the Clone tab: the choices, and what the text will
be spoken in, shown as it is typed."""

from __future__ import annotations

from voiceclone.errors import VoiceCloneError


def language_view(text: str, language: str) -> str:
    """Clone tab: the language the text will be spoken in, as it is typed."""
    from voiceclone.text.languages import AUTO, describe
    from voiceclone.voices.speech import spoken_languages

    if not (text or "").strip():
        return ""
    try:
        steps = spoken_languages(text, language or AUTO)
    except VoiceCloneError as exc:
        return f"Cannot speak this: {exc}"
    return f"Speaks: **{describe(steps, (language or AUTO) == AUTO)}**"


def language_choices() -> list[tuple[str, str]]:
    from voiceclone.text.languages import LANGUAGES

    return [("Auto (detect each sentence)", "auto")] + [
        (lang.label, code) for code, lang in LANGUAGES.items()
    ]
