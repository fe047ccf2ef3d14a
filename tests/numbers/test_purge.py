"""At the end of the window the number in clear is gone from everywhere: every text
column of every table (the search index's tables among them), the search backend, the
captured log records and what the console SMS gateway printed."""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection

from directory.numbers import services
from directory.numbers.models import LinkedNumber, RetiredNumber
from directory.services import endpoint_add, handle_add, handle_mark_verified
from search.backends import get_backend
from tests.numbers.conftest import NUMBER, SPELLINGS, client_for

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TEXT_TYPES = ("text", "character varying", "character", "json", "jsonb")


def text_columns() -> list[tuple[str, str]]:
    """Every text or JSON column of every table in the test database."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = current_schema() AND data_type = ANY(%s) "
            "ORDER BY table_name, column_name",
            [list(TEXT_TYPES)],
        )
        return list(cursor.fetchall())


def rows_holding(spellings: list[str]) -> list[tuple[str, str, str]]:
    """``(table, column, value)`` of every stored value that contains a spelling."""
    patterns = [f"%{s}%" for s in spellings]
    found = []
    with connection.cursor() as cursor:
        for table, column in text_columns():
            cursor.execute(
                f'SELECT "{column}"::text FROM "{table}" WHERE "{column}"::text LIKE ANY(%s)',
                [patterns],
            )
            found += [(table, column, value) for (value,) in cursor.fetchall()]
    return found


def code_printed(output: str) -> str:
    return re.findall(r"Your Worldbook code is (\d{6})", output)[-1]


def test_nothing_holds_the_number_after_the_purge(
    alice, bob, bob_user, settings, caplog, capsys, django_capture_on_commit_callbacks
):
    settings.NUMBER_SMS_BACKEND = "directory.numbers.sms.console.ConsoleSmsBackend"
    caplog.set_level(logging.DEBUG)
    with (
        time_machine.travel(START, tick=False) as clock,
        django_capture_on_commit_callbacks(execute=True),
    ):
        # The number reaches the directory every way it can: a tel: endpoint, a
        # WhatsApp link, a verified WhatsApp handle, and the linked number itself.
        endpoint_add(entry=alice, uri="tel:+1-415-555-0123", audience="contacts")
        endpoint_add(entry=alice, uri="https://wa.me/14155550123")
        handle_mark_verified(handle=handle_add(entry=alice, kind="whatsapp", raw=NUMBER))
        services.number_send_code(entry=alice, raw="(415) 555-0123", region="US")
        linked = services.number_verify(
            entry=alice, raw=NUMBER, code=code_printed(capsys.readouterr().out)
        )
        # A second person asks for a code for the number and never uses it.
        services.number_send_code(entry=bob, raw=NUMBER)
        services.number_retire_start(linked=linked, days=30, audience="signed_in")

        api = client_for(bob_user)
        assert api.get(f"/api/v1/numbers/{NUMBER}").json()["status"] == "moved"
        # A refused request is logged by Django with its path: the number must not be.
        assert api.get(f"/api/v1/numbers/{NUMBER}", {"since": "yesterday"}).status_code == 400
        assert (
            api.post("/api/v1/discover", {"items": ["+1 415 555 0123"]}, format="json").json()[0][
                "status"
            ]
            == "moved"
        )
        assert rows_holding(SPELLINGS), "the test must see the number before the purge"

        clock.move_to(START + timedelta(days=30, seconds=1))
        assert services.numbers_advance() == 1

    leftovers = rows_holding(SPELLINGS)
    assert leftovers == [], leftovers
    for spelling in SPELLINGS:
        assert get_backend().search(spelling, limit=10, offset=0)[0] == []
    # What a formatter writes of each record: its message, with its arguments.
    logged = "\n".join(f"{record.getMessage()} {record.args!r}" for record in caplog.records)
    assert "Bad Request" in logged
    printed = capsys.readouterr()
    for spelling in SPELLINGS:
        assert spelling not in logged
        assert spelling not in printed.out + printed.err
    assert LinkedNumber.objects.get().state == "retired"
    assert RetiredNumber.objects.count() == 1
    # The entry itself, its other data and its contacts are untouched.
    assert alice.contacts.count() == 0 and bob.contacts.get().saved == alice
