"""Load benchmarks for Worldbook (see docs/benchmarks.md)."""
