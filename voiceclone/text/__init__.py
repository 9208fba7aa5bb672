"""Text for speech and for scoring: cleaning, sentences, the normaliser and
word error rate.
"""
