"""A logging filter that keeps phone numbers out of log lines.

Number lookups carry the number in their path (``/api/v1/numbers/+15551234567``), and
Django logs the path of every 4xx and 5xx answer (logger ``django.request``) and of every
request of the development server (``django.server``). Attached to those loggers (see
``LOGGING`` in the settings), this filter rewrites each record's message with every run
of seven or more digits, spaced or punctuated as people write numbers, replaced by
``[number]``, so no handler (console, file, a test's capture) ever sees one.
"""

from __future__ import annotations

import logging
import re

# Seven digits or more, allowing the separators people write between them (``+1 (415)
# 555-0123``, ``%2B14155550123`` in an encoded path).
# An ISO 8601 date (``2026-05-30``) is not one.
NUMBER_LIKE = re.compile(
    r"(?<!\d)(?!\d{4}-\d{2}-\d{2}(?!\d))(?:%2B|\+)?\d(?:[\s().\-/]{0,2}\d){6,}", re.IGNORECASE
)


def redact_numbers(text: str) -> str:
    """``text`` with every number-like run replaced by ``[number]``."""
    return NUMBER_LIKE.sub("[number]", text)


class RedactNumbers(logging.Filter):
    """Rewrite the record's message (``msg % args``) with numbers redacted; keep it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):
            message = str(record.msg)
        redacted = redact_numbers(message)
        if redacted != message:
            record.msg, record.args = redacted, ()
        return True
