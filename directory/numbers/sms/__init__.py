"""The SMS gateway: one small interface, backends chosen by a dotted path in settings.

Like Django's email backends: ``NUMBER_SMS_BACKEND`` names a class with
``send_messages(messages) -> int``. Backends here: console (development default), file,
locmem (tests) and Twilio's Messages API (production).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from directory.exceptions import WorldbookError


@dataclass(frozen=True)
class SmsMessage:
    """A text message: ``to`` in E.164 (``+15551234567``) and its ``body`` (plain text)."""

    to: str
    body: str


class SmsSendError(WorldbookError):
    """The gateway did not accept the message (down, refused, or misconfigured)."""

    status = 503
    slug = "sms-unavailable"
    title = "The code could not be sent"


class BaseSmsBackend:
    """Base of SMS backends: subclasses implement :meth:`send_messages`."""

    def send_messages(self, messages: list[SmsMessage]) -> int:
        """Send ``messages``; return how many were accepted. Raises :class:`SmsSendError`."""
        raise NotImplementedError


def get_gateway(path: str | None = None) -> BaseSmsBackend:
    """An instance of the backend class ``path`` (default ``settings.NUMBER_SMS_BACKEND``).
    Raises ``ImportError`` for a path that names no class."""
    return import_string(path or settings.NUMBER_SMS_BACKEND)()


def send_sms(to: str, body: str) -> None:
    """Send one message through the configured gateway. Raises :class:`SmsSendError`, also
    when ``NUMBER_SMS_BACKEND`` names no backend that can be loaded."""
    try:
        gateway = get_gateway()
    except (ImportError, TypeError) as exc:
        raise SmsSendError("The SMS gateway is not configured; try again later.") from exc
    gateway.send_messages([SmsMessage(to=to, body=body)])
