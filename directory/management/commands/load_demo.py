"""``manage.py load_demo [FOLDER] [--region CC]``: load the demo directory.

Imports every ``*.vcf`` file of the folder (as ``import_vcards`` does), then reads the
folder's ``verified.toml``: the handles to show as verified. With ``DEMO_DATA`` on (as
``./deploy/run`` sets it) each is recorded as verified by *demo data, not a proof*
(:func:`directory.verification.services.verification_record_demo`); with it off they stay
claims. Running it again changes nothing.

``verified.toml`` holds one ``[[handle]]`` table per handle::

    [[handle]]
    entry = "chloe-dubois"   # the directory handle, without the @
    kind = "email"           # a HandleKind value
    value = "chloe.dubois@example.com"

A handle the entry's cards do not hold is claimed for it first.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from directory.exceptions import WorldbookError
from directory.models import Entry
from directory.services import handle_add
from directory.verification.services import verification_record_demo

DEFAULT_FOLDER = Path(settings.BASE_DIR) / "deploy" / "demo"
VERIFIED_FILE = "verified.toml"


def read_verified(folder: Path) -> list[dict[str, str]]:
    """The ``[[handle]]`` tables of ``folder/verified.toml`` (none when it is missing).

    Output: dicts with ``entry``, ``kind`` and ``value``. Raises :class:`CommandError` for
    a file that is not TOML (TOML 1.0) or a table without those three strings.
    """
    path = folder / VERIFIED_FILE
    if not path.exists():
        return []
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise CommandError(f"{path}: {exc}") from None
    handles = data.get("handle", [])
    for number, item in enumerate(handles, 1):
        if not all(isinstance(item.get(key), str) for key in ("entry", "kind", "value")):
            raise CommandError(f"{path}: handle {number} needs entry, kind and value")
    return handles


class Command(BaseCommand):
    help = (
        "Load the demo directory: import the folder's vCard files, then mark the handles "
        "its verified.toml lists as verified by demo data, not a proof (only with the "
        "DEMO_DATA setting on, as ./deploy/run sets it). Running it again changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "folder", nargs="?", default=str(DEFAULT_FOLDER), metavar="FOLDER",
            help="Folder of the demo's .vcf files and verified.toml (default deploy/demo).",
        )  # fmt: skip
        parser.add_argument(
            "--region", default="US", metavar="CC",
            help="Region of phone numbers written without a country code (default US).",
        )  # fmt: skip

    def handle(self, *args, folder: str, region: str, **options):
        root = Path(folder)
        files = sorted(str(path) for path in root.glob("*.vcf"))
        if not files:
            raise CommandError(f"No .vcf files in {root}.")
        call_command(
            "import_vcards", *files, region=region, no_progress=True,
            verbosity=options["verbosity"], stdout=self.stdout, stderr=self.stderr,
        )  # fmt: skip
        wanted = read_verified(root)
        if not wanted:
            return
        if not settings.DEMO_DATA:
            self.stdout.write(
                f"DEMO_DATA is off: the {len(wanted)} demo handles of {VERIFIED_FILE} stay "
                "claims, not verified."
            )
        recorded = 0
        for item in wanted:
            entry = Entry.objects.filter(handle_canonical=item["entry"].casefold()).first()
            if entry is None:
                raise CommandError(f"{VERIFIED_FILE}: no entry @{item['entry']} in the demo.")
            try:
                handle = handle_add(entry=entry, kind=item["kind"], raw=item["value"])
                if settings.DEMO_DATA:
                    verification_record_demo(handle=handle)
                    recorded += 1
            except WorldbookError as exc:
                self.stderr.write(f"{VERIFIED_FILE}: @{entry.handle} {item['value']}: {exc.detail}")
        if settings.DEMO_DATA:
            self.stdout.write(f"{recorded} handles shown as verified by demo data, not a proof.")
