"""Benchmarks: commands that print figures (`make bench`), not tests pytest collects."""
