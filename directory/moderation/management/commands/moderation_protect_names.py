"""``manage.py moderation_protect_names``: rebuild the protected name keys of every
verified entry (after a bulk load, a restore from backup or an upgrade)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand
from tqdm import tqdm

from directory.moderation.impersonation import protect_all_names


class Command(BaseCommand):
    help = "Rebuild the impersonation index: the name keys of every verified entry."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--batch-size", type=int, default=2000)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args, batch_size: int, no_progress: bool, **options) -> None:
        started = time.perf_counter()
        with tqdm(unit="entries", desc="protecting", disable=no_progress) as bar:
            done = protect_all_names(batch_size=batch_size, progress=bar.update)
        seconds = time.perf_counter() - started
        self.stdout.write(f"Protected the names of {done} verified entries in {seconds:.1f} s.")
