"""Tiny analytic problems whose optimum is known by enumeration: for tests, docs and agent sanity checks."""
