"""Fixtures of the replica tests: see tests/replicas/streaming.py."""

from tests.replicas.streaming import streaming_pair

__all__ = ["streaming_pair"]
