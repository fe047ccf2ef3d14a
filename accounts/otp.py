"""Second factors (django-otp): authenticator apps (TOTP), email codes, backup codes and
passkeys. No SMS: a phone number is never a way into an account.

Every change of a person's second factors writes an audit event. Guessing is limited by
the devices' own throttling (``OTP_*_THROTTLE_FACTOR``), which is kept in each device's
database row: after ``n`` wrong codes the device refuses every code, the right one
included, for ``FACTOR × 2^(n − 1)`` seconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import segno
from django.db import transaction
from django.http import HttpRequest
from django_otp import devices_for_user
from django_otp.models import Device
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import AuditEvent
from accounts.services import audit_record

BACKUP_CODE_COUNT = 10

# Devices that take a typed code at the second sign-in step (passkeys answer a browser
# ceremony instead).
CODE_DEVICE_CLASSES = (TOTPDevice, EmailDevice, StaticDevice)


@dataclass(frozen=True)
class SecondFactor:
    """One confirmed second factor as the account page lists it."""

    persistent_id: str
    kind: str  # "totp", "email", "backup_codes" or "passkey"
    name: str
    detail: str


def _kind(device: Device) -> str:
    if isinstance(device, TOTPDevice):
        return "totp"
    if isinstance(device, EmailDevice):
        return "email"
    if isinstance(device, StaticDevice):
        return "backup_codes"
    return "passkey"


def second_factors(user) -> list[SecondFactor]:
    """The user's confirmed second factors, for display: kind, name and a short detail
    (backup codes left; the address email codes go to)."""
    factors = []
    for device in devices_for_user(user, confirmed=True):
        kind = _kind(device)
        if kind == "backup_codes":
            detail = f"{device.token_set.count()} of {BACKUP_CODE_COUNT} codes left"
        elif kind == "email":
            detail = device.email or user.email
        else:
            detail = ""
        factors.append(SecondFactor(device.persistent_id, kind, device.name, detail))
    return factors


def has_second_factor(user) -> bool:
    """True when the user has at least one confirmed second factor."""
    return any(True for _ in devices_for_user(user, confirmed=True))


def may_manage_second_factors(request: HttpRequest) -> bool:
    """A session may add or remove second factors when it passed one, or when the account
    has none yet (so a stolen password alone cannot swap the second factor)."""
    user = request.user
    return user.is_verified() or not has_second_factor(user)


def code_devices(user) -> list[Device]:
    """The user's confirmed devices that accept a typed code."""
    return [
        device
        for device in devices_for_user(user, confirmed=True)
        if isinstance(device, CODE_DEVICE_CLASSES)
    ]


def code_verify(*, user, code: str, request: HttpRequest | None = None) -> Device | None:
    """Check a typed second-factor code against each of the user's code devices.

    Input: the code as typed (spaces ignored). Output: the device that accepted it, or
    ``None``; a wrong code is recorded as a failure on every device tried (RFC 6238 §5.2
    asks for such a limit) and as an audit event. A backup code is used up by a match.
    """
    code = "".join(code.split())
    if code:
        for device in code_devices(user):
            if device.verify_token(code):
                return device
    audit_record(action=AuditEvent.Action.SECOND_FACTOR_FAILED, user=user, request=request)
    return None


def totp_begin(*, user) -> TOTPDevice:
    """Start adding an authenticator app: a new, unconfirmed TOTP device (RFC 6238, 30 s
    steps, 6 digits, SHA-1 as authenticator apps expect). Earlier unconfirmed ones go."""
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)


def totp_qr_svg(device: TOTPDevice) -> str:
    """The device's ``otpauth://`` key URI as an inline SVG QR code (ISO/IEC 18004)."""
    return segno.make(device.config_url, error="m").svg_inline(scale=4, border=2)


def device_confirm(*, device: Device, code: str, request: HttpRequest | None = None) -> bool:
    """Confirm an unconfirmed TOTP or email device with a code it produced.

    Output: True when the code was right; the device is then confirmed and an audit event
    written. A wrong code counts towards the device's throttling.
    """
    if not device.verify_token("".join(code.split())):
        return False
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(
        action=AuditEvent.Action.SECOND_FACTOR_ADDED,
        user=device.user,
        request=request,
        kind=_kind(device),
    )
    return True


def email_device_begin(*, user) -> EmailDevice:
    """Start adding email codes: a new, unconfirmed email device for ``user.email``, and a
    first code sent to it. Earlier unconfirmed ones go."""
    EmailDevice.objects.filter(user=user, confirmed=False).delete()
    device = EmailDevice.objects.create(user=user, name="Email codes", confirmed=False)
    device.generate_challenge()
    return device


@transaction.atomic
def backup_codes_generate(*, user, request: HttpRequest | None = None) -> list[str]:
    """Replace the user's backup codes with ``BACKUP_CODE_COUNT`` new single-use codes.

    Output: the codes, in clear; they are shown once and cannot be read again.
    """
    # The device stays (a session verified with it stays verified); its codes are replaced.
    device, _ = StaticDevice.objects.get_or_create(
        user=user, defaults={"name": "Backup codes", "confirmed": True}
    )
    device.token_set.all().delete()
    codes = [StaticToken.random_token() for _ in range(BACKUP_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=device, token=code) for code in codes)
    audit_record(
        action=AuditEvent.Action.SECOND_FACTOR_ADDED,
        user=user,
        request=request,
        kind="backup_codes",
    )
    return codes


def device_for_user(user, persistent_id: str) -> Device | None:
    """The user's device with that persistent id, or ``None`` (also for another user's)."""
    device = Device.from_persistent_id(persistent_id)
    if device is None or device.user_id != user.pk:
        return None
    return device


def device_remove(*, device: Device, request: HttpRequest | None = None) -> None:
    """Delete a second factor and write an audit event."""
    kind = _kind(device)
    user = device.user
    device.delete()
    audit_record(
        action=AuditEvent.Action.SECOND_FACTOR_REMOVED, user=user, request=request, kind=kind
    )
