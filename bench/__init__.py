"""Benchmarks, run on demand (`make bench`); not part of the tests."""
