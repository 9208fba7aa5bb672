"""Subtitles, video and timed speech: dubbing and re-speaking."""
