"""Log lines never carry a phone number: Django's request loggers and gunicorn's access
log redact them."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

from gunicorn.config import Config

from directory.numbers.gunicorn import RedactingLogger
from directory.numbers.logging import redact_numbers


def test_it_redacts_numbers_however_they_are_written():
    for text in (
        "/api/v1/numbers/+14155550123",
        "/api/v1/numbers/%2B14155550123",
        "q=+1 (415) 555-0123",
        "415.555.0123",
        "tel:+39-06-1234-5678",
    ):
        assert not any(ch.isdigit() for ch in redact_numbers(text).split("/v1/")[-1]), text
    assert redact_numbers("GET /api/v1/resolve?handle=@alice") == (
        "GET /api/v1/resolve?handle=@alice"
    )


def test_djangos_request_logger_is_filtered(caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        logging.getLogger("django.request").warning(
            "Bad Request: %s", "/api/v1/numbers/+14155550123"
        )
    (record,) = caplog.records
    assert record.getMessage() == "Bad Request: /api/v1/numbers/[number]"


def test_gunicorns_access_log_is_redacted():
    logger = RedactingLogger(Config())
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/v1/numbers/+14155550123?since=2026-01-01",
        "PATH_INFO": "/api/v1/numbers/+14155550123",
        "QUERY_STRING": "since=2026-01-01",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
    }
    response = SimpleNamespace(status="200 OK", sent=10, headers=[])
    request = SimpleNamespace(headers=[])
    atoms = logger.atoms(response, request, environ, timedelta(milliseconds=3))
    assert "4155550123" not in atoms["r"] and "4155550123" not in atoms["U"]
    assert atoms["U"] == "/api/v1/numbers/[number]"
    assert atoms["q"] == "since=2026-01-01"  # a date is not a number
