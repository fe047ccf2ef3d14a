"""``manage.py search_reindex``: rebuild the search index from the directory."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from directory.models import Entry
from search.backends import get_backend
from search.models import ReindexCheckpoint


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
        parser.add_argument(
            "--resume",
            action="store_true",
            help="Carry on an interrupted rebuild after its last written batch "
            "(starts from the beginning when none was interrupted).",
        )

    def handle(self, *args, batch_size: int, resume: bool, verbosity: int, **options) -> None:
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
            checkpoint = ReindexCheckpoint.objects.filter(backend=backend.name).first()
            listed = Entry.objects.listed()
            if resume and checkpoint:
                listed = listed.filter(pk__gt=checkpoint.last_entry_id)
                if verbosity:
                    self.stdout.write(f"Resuming after entry {checkpoint.last_entry_id}.")
            with tqdm(
                total=listed.count(),
                unit="entry",
                desc=f"Indexing ({backend.name})",
                file=self.stderr,
                disable=verbosity == 0,
            ) as bar:
                indexed = backend.rebuild(progress=bar.update, batch_size=batch_size, resume=resume)
        finally:
            self.stderr.ending = ending
        if verbosity:
            self.stdout.write(self.style.SUCCESS(f"Indexed {indexed} entries."))
