"""Sound in and out, and what is measured on it: files, features (WORLD,
pitch), quality (DNSMOS), speaker embeddings, Whisper.
"""
