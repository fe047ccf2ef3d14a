"""Fixtures of the account tests: people with passwords, second factors, and helpers that
sign in through the real pages."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _accounts_settings(settings):
    # Fast hashing: these tests sign people in, they do not test password storage.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.SITE_URL = "https://worldbook.example"
    settings.ALLOWED_HOSTS = ["testserver", "worldbook.example"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def alice(django_user_model):
    return django_user_model.objects.create_user("alice@example.org", "alice@example.org", PASSWORD)


@pytest.fixture
def alice_totp(alice) -> TOTPDevice:
    return TOTPDevice.objects.create(user=alice, name="Authenticator app", confirmed=True)


def totp_code(device: TOTPDevice) -> str:
    """The code the device's authenticator app shows now (RFC 6238)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def password_step(
    client: Client, email: str, password: str = PASSWORD, next: str | None = None, **meta
):
    """Post the sign-in form; ``meta`` goes to the request (``REMOTE_ADDR=…``)."""
    data = {"username": email, "password": password}
    if next is not None:
        data["next"] = next
    return client.post(reverse("accounts:login"), data, **meta)
