"""System checks of the phone-number settings that the settings module cannot make itself
(it cannot import the backends): ``manage.py check`` and ``migrate`` run them."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string


@register()
def check_sms_backend(app_configs=None, **kwargs) -> list[Error]:
    """``NUMBER_SMS_BACKEND`` must name a class derived from
    :class:`directory.numbers.sms.BaseSmsBackend`. Output: the errors found (none or one)."""
    from directory.numbers.sms import BaseSmsBackend

    path = settings.NUMBER_SMS_BACKEND
    try:
        backend = import_string(path)
    except ImportError as exc:
        return [
            Error(
                f"NUMBER_SMS_BACKEND {path!r} cannot be imported: {exc}",
                hint="Name an SMS backend class, e.g. "
                "directory.numbers.sms.twilio.TwilioSmsBackend.",
                id="numbers.E001",
            )
        ]
    if not (isinstance(backend, type) and issubclass(backend, BaseSmsBackend)):
        return [
            Error(
                f"NUMBER_SMS_BACKEND {path!r} is not an SMS backend class "
                "(a subclass of directory.numbers.sms.BaseSmsBackend).",
                id="numbers.E002",
            )
        ]
    return []
