"""``manage.py transparency_monitor``: replay the whole log against the database."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from transparency.bindings import enabled
from transparency.monitor import log_replay, record_unrecorded


class Command(BaseCommand):
    help = (
        "Replay the transparency log: no gap, checkpoints signed over the entries' tree, "
        "each handle's chain of records unbroken, and each handle's newest record saying "
        "what the directory answers. Exits non-zero, listing every problem, when one is found."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--record-missing",
            action="store_true",
            help="First append a record for every answering handle the log has none of "
            "(entries made before the log had its key, or bulk-loaded).",
        )

    def handle(self, *args, **options) -> None:
        verbosity = options["verbosity"]
        if options["record_missing"]:
            if not enabled():
                raise CommandError("TRANSPARENCY_SIGNING_KEY is not set: nothing is recorded")
            self.stdout.write(f"Recorded {record_unrecorded()} handles the log had no record of.")
        report = log_replay(
            progress=(lambda n: self.stderr.write(f"{n} entries read")) if verbosity > 1 else None
        )
        for problem in report.problems:
            self.stderr.write(problem)
        summary = (
            f"{report.entries} entries, {report.checkpoints} checkpoints, {report.handles} handles"
        )
        if report.problems:
            raise CommandError(f"{len(report.problems)} problems in {summary}")
        self.stdout.write(f"The log checks out: {summary}.")
