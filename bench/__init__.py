"""Benchmarks: figures are recorded in bench/README.md, never asserted in tests."""
