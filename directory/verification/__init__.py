"""Proving that an entry controls a handle: verifiers, safe fetching, lifecycle."""
