"""``manage.py search_check``: compare the search index with the directory (drift)."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from search.backends import get_backend
from search.backends.base import BackendHealth
from search.drift import find_drift

# Ids listed per kind of drift; the counts are always complete.
SHOWN_MAX = 20


class Command(BaseCommand):
    help = (
        "Compare the search index with the directory: entries listed but missing from the "
        "index, documents of entries that are not listed (extra), and documents that differ "
        "from what the entry would be indexed as now (stale). Exits with status 1 when it "
        "finds drift; --fix syncs every entry concerned."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--fix", action="store_true", help="Sync the missing, extra and stale entries."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=1000,
            help="Entries and documents read at a time (default 1000).",
        )

    def handle(self, *args, fix: bool, batch_size: int, verbosity: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        backend = get_backend()
        health = backend.health()
        # The health line comes first, also when the backend is down: the fallback count
        # and the breaker's state are what an operator needs then.
        if verbosity or not health.ok:
            self.stdout.write(self._health_line(backend.name, health))
        if not health.ok:
            raise CommandError(
                f"The {backend.name} search backend is not answering: {health.detail}"
            )
        drift = find_drift(backend, batch_size=batch_size)
        for kind in ("missing", "extra", "stale"):
            ids = sorted(getattr(drift, kind))
            if ids and verbosity:
                shown = ", ".join(map(str, ids[:SHOWN_MAX]))
                more = f" and {len(ids) - SHOWN_MAX} more" if len(ids) > SHOWN_MAX else ""
                self.stdout.write(f"{kind}: {len(ids)} (entry ids {shown}{more})")
        if not drift.total:
            if verbosity:
                self.stdout.write(
                    self.style.SUCCESS(
                        f"No drift: {drift.checked} listed entries, all indexed as they are."
                    )
                )
            return
        if not fix:
            raise CommandError(
                f"Drift in the {backend.name} index: {drift.total} entries "
                "(run with --fix to sync them).",
                returncode=1,
            )
        for entry_id in sorted(drift.missing | drift.stale):
            backend.sync_entry(entry_id)
        for entry_id in sorted(drift.extra):
            backend.remove_entry(entry_id)
        if verbosity:
            self.stdout.write(self.style.SUCCESS(f"Fixed {drift.total} entries."))

    @staticmethod
    def _health_line(name: str, health: BackendHealth) -> str:
        """One line for operators: health, documents, fallbacks and the breaker's state."""
        documents = "unknown" if health.documents is None else health.documents
        extra = ""
        if health.fallbacks is not None:
            extra += f"; {health.fallbacks} searches fell back to the database"
        if health.breaker is not None:
            extra += f"; circuit breaker {health.breaker}"
        # When it is down the error ends the command, with the detail.
        state = health.detail if health.ok else "not answering"
        return f"{name}: {state}, {documents} documents{extra}."
