"""``POST /api/v1/reports``: signed-in reports, grouped, limited, answered with RFC 9457
problem documents when refused."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from directory.moderation.models import Report, ReportCase
from directory.moderation.services import entry_suspend

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports"


def _client(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def _post(client, **fields):
    body = {"entry": "@kim", "category": "impersonation", "reason": "Not the real Kim."}
    body.update(fields)
    return client.post(URL, {k: v for k, v in body.items() if v is not None}, format="json")


def test_it_files_and_groups_reports(entry, reporter, second_reporter):
    first = _post(_client(reporter))
    second = _post(_client(second_reporter), category="spam")

    assert first.status_code == 201, first.content
    assert second.json()["case"] == first.json()["case"]
    assert second.json()["reports_in_case"] == 2
    assert ReportCase.objects.get().report_count == 2


def test_it_reports_a_handle_and_an_endpoint(entry, reporter):
    client = _client(reporter)

    on_handle = _post(client, handle_kind="github", handle="https://github.com/Kim-L")
    on_endpoint = _post(client, endpoint="SIP:kim@example.org", category="wrong_endpoint")

    assert on_handle.status_code == on_endpoint.status_code == 201
    targets = set(ReportCase.objects.values_list("target_type", "target_label"))
    assert targets == {("handle", "github:kim-l"), ("endpoint", "sip:kim@example.org")}


def test_it_needs_a_signed_in_person(entry):
    response = _post(_client())

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    assert not Report.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"reason": ""}, "reason"),
        ({"category": "rude"}, "category"),
        ({"handle": "kim-l"}, "handle"),
        (
            {"handle_kind": "github", "handle": "kim-l", "endpoint": "sip:kim@example.org"},
            "endpoint",
        ),
    ],
)
def test_bad_input_is_a_400_problem_naming_the_field(entry, reporter, fields, field):
    response = _post(_client(reporter), **fields)

    assert response.status_code == 400
    body = response.json()
    assert body["type"].endswith("/invalid-request")
    assert field in body["errors"]
    assert not Report.objects.exists()


def test_a_suspended_entry_is_reported_missing_byte_for_byte(entry, reporter, moderator):
    entry_suspend(entry=entry, moderator=moderator, reason="Spam.")
    client = _client(reporter)

    hidden = _post(client)
    missing = _post(client, entry="@kix")

    assert hidden.status_code == missing.status_code == 404
    assert hidden.content == missing.content


def test_an_unknown_handle_or_hidden_endpoint_is_not_found(entry, reporter):
    from directory.services import endpoint_add

    endpoint_add(entry=entry, uri="sip:kim-private@example.org", audience="nobody")
    client = _client(reporter)

    assert _post(client, handle_kind="github", handle="someone-else").status_code == 404
    assert _post(client, endpoint="sip:kim-private@example.org").status_code == 404
    assert not Report.objects.exists()


def test_the_daily_limit_answers_429(settings, entry, owner, reporter):
    from directory.services import entry_create

    settings.MODERATION_REPORTS_PER_DAY = 1
    entry_create(nickname="Second", handle="second", owner=owner)
    client = _client(reporter)
    assert _post(client).status_code == 201

    refused = _post(client, entry="@second")

    assert refused.status_code == 429
    assert refused.json()["type"].endswith("/too-many-reports")
    assert Report.objects.count() == 1


def test_the_report_throttle_answers_429(monkeypatch, entry, reporter, owner):
    from rest_framework.throttling import SimpleRateThrottle

    from directory.services import entry_create

    monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "report", "2/min")
    for n in range(2):
        entry_create(nickname=f"E{n}", handle=f"e{n}x", owner=owner)
    client = _client(reporter)

    statuses = [_post(client, entry=h).status_code for h in ("@kim", "@e0x", "@e1x")]

    assert statuses == [201, 201, 429]
    assert Report.objects.count() == 2
