"""An SMS backend that writes each message to a file in ``NUMBER_SMS_FILE_PATH``.

One file per message (``<timestamp>-<random>.txt``), recipient masked as on the console.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from directory.numbers.sms import BaseSmsBackend, SmsMessage
from directory.numbers.sms.console import render


class FileSmsBackend(BaseSmsBackend):
    def __init__(self, path: str | None = None) -> None:
        self.path = Path(path or settings.NUMBER_SMS_FILE_PATH)

    def send_messages(self, messages: list[SmsMessage]) -> int:
        self.path.mkdir(parents=True, exist_ok=True)
        for message in messages:
            name = f"{timezone.now():%Y%m%d-%H%M%S}-{secrets.token_hex(4)}.txt"
            (self.path / name).write_text(render(message), encoding="utf-8")
        return len(messages)
