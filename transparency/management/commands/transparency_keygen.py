"""``manage.py transparency_keygen <name>``: a new signing key for the transparency log."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from transparency.verifier.note import NoteError, generate_key


class Command(BaseCommand):
    help = (
        "Print a new Ed25519 signed-note key pair for the transparency log: the private key "
        "(for TRANSPARENCY_SIGNING_KEY) and the verifier key calling apps pin. The name is "
        "the log's origin, e.g. worldbook.example/log."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="the key's name: the log's origin (no spaces, no +)")

    def handle(self, *args, name: str, **options):
        try:
            skey, vkey = generate_key(name)
        except NoteError as exc:
            raise CommandError(f"{name!r} cannot name a key: no spaces and no '+'.") from exc
        self.stdout.write(f"TRANSPARENCY_SIGNING_KEY={skey}\n")
        self.stdout.write(f"verifier key: {vkey}\n")
