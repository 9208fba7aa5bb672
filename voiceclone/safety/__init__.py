"""Consent records and checks, and the watermark on every clip made."""
