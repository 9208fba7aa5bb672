"""Saved voices: the reference intake, enrolment, the store of profiles."""
