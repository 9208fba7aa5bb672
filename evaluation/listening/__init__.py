"""Listening tests: design a session, collect ratings in SQLite, analyse them.

- :mod:`evaluation.listening.design`: test types, scales, stimulus specs, the design;
- :mod:`evaluation.listening.manifest`: manifest CSVs and stimuli zips;
- :mod:`evaluation.listening.trials`: trials, and per-rater plans and layouts;
- :mod:`evaluation.listening.store`: the SQLite store (sessions, plays, ratings), with
  :mod:`~evaluation.listening.records` (what it hands out),
  :mod:`~evaluation.listening.stimulus_files` (copying the clips in) and
  :mod:`~evaluation.listening.raters` (the rater-facing calls);
- :mod:`evaluation.listening.analysis`: the analysis and its summary, built on
  :mod:`~evaluation.listening.validation`, :mod:`~evaluation.listening.screening`,
  :mod:`~evaluation.listening.statistics` and :mod:`~evaluation.listening.tables`;
- :mod:`evaluation.listening.plots`: figures of the analysis;
- :mod:`evaluation.listening.export`: exports and reports of a session;
- :mod:`evaluation.listening.stimuli`: stimuli made by the app itself.
"""
