"""An SMS backend that writes messages to standard output (the development default).

The recipient is masked, so the output, which often ends up in a log, names no number.
"""

from __future__ import annotations

import sys
import threading

from directory.numbers.hashing import mask_number
from directory.numbers.sms import BaseSmsBackend, SmsMessage


def render(message: SmsMessage) -> str:
    """The text written for ``message``: a masked ``To:`` line, a blank line, the body."""
    return f"To: {mask_number(message.to)}\n\n{message.body}\n{'-' * 40}\n"


class ConsoleSmsBackend(BaseSmsBackend):
    _lock = threading.Lock()

    def __init__(self, stream=None) -> None:
        self.stream = stream or sys.stdout

    def send_messages(self, messages: list[SmsMessage]) -> int:
        with self._lock:
            for message in messages:
                self.stream.write(render(message))
            self.stream.flush()
        return len(messages)
