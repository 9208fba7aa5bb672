"""Turning a base voice into a clone: the base-voice bank, conversion,
training, the style fit, synthesis in a voice.
"""
