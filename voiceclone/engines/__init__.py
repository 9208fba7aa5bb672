"""Base voices that speak text: the engine interface, Piper, Kokoro."""
