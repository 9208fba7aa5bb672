"""evaluation: how good is a clone? Objective metrics, listening tests, benchmark.

Conventions for every number are documented where the number is computed.
"""
