"""``manage.py import_vcards FILE... [--region CC]``: load vCard files into the directory."""

from __future__ import annotations

from collections.abc import Iterable

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from directory.exceptions import NormalizationError
from directory.importing import Problem, VCardImport

# Files with fewer cards import in a blink; a bar would only flicker.
PROGRESS_MIN_CARDS = 100


class Command(BaseCommand):
    help = (
        "Import vCard files (vCard 2.1, 3.0 and 4.0) into the directory: one operator entry "
        "per card, with its email, phone, messaging and web addresses as handles and "
        "endpoints. Each card is written in its own transaction; importing the same file "
        "again changes nothing. Problems are printed on stderr as FILE:LINE: reason, in "
        "file and line order, and a summary on stdout whose counts add up: cards found "
        "(each BEGIN:VCARD, with or without its END:VCARD) = created + updated + "
        "unchanged + skipped; cards read = cards found less those that cannot be read "
        "(no END:VCARD, a line off the vCard grammar, a VERSION other than 2.1, 3.0 and "
        "4.0), which are counted among the skipped. Exit status: 0 when at least one "
        "card could be read, even if some files or cards were not; 1 when no card at all "
        "could be read (every file missing, unreadable or without a vCard), or for a bad "
        "option."
    )

    def add_arguments(self, parser):
        parser.add_argument("files", nargs="+", metavar="FILE", help="vCard files (.vcf)")
        parser.add_argument(
            "--region",
            metavar="CC",
            help="ISO 3166-1 alpha-2 region (US, IT …) to read phone numbers written "
            "without a country code. Without it such numbers are skipped with the reason.",
        )
        parser.add_argument(
            "--no-progress",
            action="store_true",
            help=f"No progress bar (one is shown on stderr, when it is a terminal, for files "
            f"of {PROGRESS_MIN_CARDS} cards or more).",
        )

    def handle(self, *args, files: list[str], region: str | None, no_progress: bool, **options):
        verbosity = options["verbosity"]
        # tqdm writes carriage returns; it needs the raw stream, not Django's
        # OutputWrapper, which ends every write with a newline.
        stream = getattr(self.stderr, "_out", self.stderr)
        show_progress = not no_progress and self.stderr.isatty()

        def write_problem(problem: Problem) -> None:
            tqdm.write(str(problem), file=stream)

        def write_property(note: Problem) -> None:
            if verbosity >= 2:
                tqdm.write(str(note), file=stream)

        def wrap(cards: Iterable, total: int, name: str) -> Iterable:
            return tqdm(
                cards,
                total=total,
                desc=name,
                unit="card",
                file=stream,
                disable=not show_progress or total < PROGRESS_MIN_CARDS,
                leave=False,
            )

        try:
            run = VCardImport(region=region, on_problem=write_problem, on_property=write_property)
        except NormalizationError as exc:
            raise CommandError(f"--region: {exc.detail}") from None
        for path in files:
            run.import_file(path, wrap=wrap)
        report = run.report
        if verbosity >= 1:
            for line in report.summary_lines():
                self.stdout.write(line)
        if report.cards_read == 0:
            raise CommandError("No card could be read from the files given; nothing was imported.")
