"""Gunicorn's access log without phone numbers (``logger_class`` in deploy/gunicorn.conf.py).

The access log writes each request line; a number lookup's path holds the number
(``GET /api/v1/numbers/+15551234567``). This logger redacts number-like runs in the
request line, path, query string and referrer before they are formatted, as
:class:`directory.numbers.logging.RedactNumbers` does for Django's own loggers.
"""

from __future__ import annotations

from gunicorn.glogging import Logger

from directory.numbers.logging import redact_numbers

REDACTED_ATOMS = ("r", "U", "q", "f")


class RedactingLogger(Logger):
    def atoms(self, resp, req, environ, request_time) -> dict:
        """Gunicorn's access-log atoms, with numbers in the request line, path, query
        string and referrer replaced by ``[number]``."""
        atoms = super().atoms(resp, req, environ, request_time)
        for key in REDACTED_ATOMS:
            if isinstance(atoms.get(key), str):
                atoms[key] = redact_numbers(atoms[key])
        return atoms
