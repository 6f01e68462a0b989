"""Deterministic generators of benchmark inputs (schemas now; rows and queries later)."""
