"""The search app's fixtures (``built``, ``make_entry``) for the contract suite."""

from search.tests.conftest import built, make_entry

__all__ = ["built", "make_entry"]
