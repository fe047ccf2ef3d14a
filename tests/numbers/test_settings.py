"""The phone-number settings come from the environment and refuse what they cannot read."""

from __future__ import annotations

import pytest

from tests.test_settings import load_settings

POSTGRES = "postgres://wb@db.internal:5432/worldbook"


def test_a_production_database_needs_hash_keys(tmp_path):
    missing = load_settings(tmp_path, DEBUG="false", SECRET_KEY="s" * 50, DATABASE_URL=POSTGRES)
    assert missing.returncode != 0
    assert (
        "NUMBER_HASH_KEYS must be set when DEBUG is off and the database is not the embedded "
        "SQLite one" in missing.stderr
    )
    given = load_settings(
        tmp_path,
        DEBUG="false",
        SECRET_KEY="s" * 50,
        DATABASE_URL=POSTGRES,
        NUMBER_HASH_KEYS="2:a-new-secret-for-numbers,1:an-old-secret-for-numbers",
    )
    assert given.returncode == 0, given.stderr


def test_the_embedded_setup_derives_a_key(tmp_path):
    result = load_settings(tmp_path, DEBUG="false", SECRET_KEY="s" * 50)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "raw", ["nonsense", "1:short", "1:first-secret-long-enough,2:second-secret-long-enough"]
)
def test_bad_keys_stop_start_up(tmp_path, raw):
    result = load_settings(tmp_path, NUMBER_HASH_KEYS=raw)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "NUMBER_HASH_KEYS" in result.stderr


def test_a_forwarding_default_past_the_longest_window_stops_start_up(tmp_path):
    result = load_settings(tmp_path, NUMBER_FORWARD_DAYS="400")
    assert result.returncode != 0
    assert "NUMBER_FORWARD_DAYS (400) must not exceed NUMBER_FORWARD_MAX_DAYS (365)" in (
        result.stderr
    )
    assert load_settings(tmp_path, NUMBER_FORWARD_DAYS="365").returncode == 0


def test_a_plain_http_twilio_url_stops_start_up(tmp_path):
    result = load_settings(tmp_path, NUMBER_SMS_TWILIO_BASE_URL="http://api.twilio.com")
    assert result.returncode != 0
    assert "NUMBER_SMS_TWILIO_BASE_URL must be an https:// URL" in result.stderr
