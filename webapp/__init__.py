"""The web app (Gradio Blocks), one module per tab: ``clone`` (clone and
speak), ``convert``, ``dub``, ``train``, ``evaluate``, ``detect``,
``listening`` (designer, rater and results pages), ``library``; ``voices``
(what the tabs share about voices), ``session`` (who is asking: a library per
visitor, scratch files, the rate limit), ``errors`` (a library error becomes a
one-line message), ``server`` (the app assembled and served). Wiring and
presentation only: the work is in ``voiceclone`` and ``evaluation``.
"""
