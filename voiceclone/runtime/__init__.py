"""Infrastructure below everything: where data lives, the torch device, models
loaded once, model files built from wheels, SQLite helpers.
"""
