"""Listening tests: design a session, collect ratings in SQLite, analyse them.

- :mod:`evaluation.listening.design`: test types, manifests, trials, per-rater plans;
- :mod:`evaluation.listening.store`: the SQLite store (sessions, plays, ratings);
- :mod:`evaluation.listening.analysis`: screening and statistics;
- :mod:`evaluation.listening.plots`: figures of the analysis.
"""
