"""An SMS backend for tests: messages are kept in :data:`outbox` (like ``mail.outbox``)."""

from __future__ import annotations

from directory.numbers.sms import BaseSmsBackend, SmsMessage

outbox: list[SmsMessage] = []


class LocmemSmsBackend(BaseSmsBackend):
    def send_messages(self, messages: list[SmsMessage]) -> int:
        outbox.extend(messages)
        return len(messages)
