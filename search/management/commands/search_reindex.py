"""``manage.py search_reindex``: rebuild the search index from the directory."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from directory.models import Entry
from search.backends import get_backend


class Command(BaseCommand):
    help = (
        "Index every listed entry afresh in the configured search backend and drop "
        "unlisted, suspended and deleted ones from it. Run it after a deployment that "
        "changes how text is indexed (search.text): syncs skip entries whose document "
        "did not change."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=500,
            help="Entries read and written per transaction (default 500).",
        )

    def handle(self, *args, batch_size: int, verbosity: int, **options) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be 1 or more.")
        backend = get_backend()
        health = backend.health()
        if not health.ok:
            raise CommandError(
                f"The {backend.name} search backend is not answering: {health.detail}"
            )
        # tqdm writes carriage returns to redraw the bar; the command's stderr wrapper must
        # not add a newline after each of them.
        ending, self.stderr.ending = self.stderr.ending, ""
        try:
            with tqdm(
                total=Entry.objects.listed().count(),
                unit="entry",
                desc=f"Indexing ({backend.name})",
                file=self.stderr,
                disable=verbosity == 0,
            ) as bar:
                indexed = backend.rebuild(progress=bar.update, batch_size=batch_size)
        finally:
            self.stderr.ending = ending
        if verbosity:
            self.stdout.write(self.style.SUCCESS(f"Indexed {indexed} entries."))
