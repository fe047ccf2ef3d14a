"""Verification settings come from the environment and refuse values they cannot read."""

from __future__ import annotations

import pytest

from tests.test_settings import load_settings


@pytest.mark.parametrize(
    "env",
    [
        {"VERIFICATION_ALLOWED_ADDRESSES": "127.0.0.2,not-an-address"},
        {"VERIFICATION_DNS_NAMESERVERS": "dns.example"},
        {"VERIFICATION_DNS_PORT": "0"},
        {"VERIFICATION_TIMEOUT_MS": "5s"},
    ],
)
def test_it_refuses_a_setting_it_cannot_read(tmp_path, env):
    result = load_settings(tmp_path, **env)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert next(iter(env)) in result.stderr


def test_it_reads_addresses_and_networks(tmp_path):
    result = load_settings(
        tmp_path,
        VERIFICATION_ALLOWED_ADDRESSES="127.0.0.2, 10.8.0.0/16, ::1",
        VERIFICATION_DNS_NAMESERVERS="127.0.0.1",
    )
    assert result.returncode == 0, result.stderr
