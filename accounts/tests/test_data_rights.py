"""Data rights: exporting everything about oneself, and deleting one's account.

Three people: Quillonia owns the data under test; Bob is in her address book (and she in
his); Charlie saved her. Everything is built through the services, and the index syncs
those schedule run after each block (Celery runs tasks in-process: see the project
conftest), so the search index holds Quillonia before she deletes her account.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import vobject
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_email.models import EmailDevice
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from accounts import data_rights
from accounts.contact_policy import policy_update
from accounts.contacts import contact_save
from accounts.data_rights import PasswordNotConfirmed, account_delete, account_export
from accounts.models import AuditEvent, Contact, User
from accounts.services import audit_record
from directory import services
from directory.models import Endpoint, Entry, Handle
from search.models import SearchDocument, SearchTerm, TermVariant

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple 42"
# OAuth2 apps and tokens are exported and deleted when django-oauth-toolkit is installed.
OAUTH = apps.is_installed("oauth2_provider")

QUILLONIA = {
    "username": "quillonia",
    "email": "Quillonia.Fairweather@example.org",
    "handle": "quillfair",
    "nickname": "Quillonia Fairweather",
    "email_handle": "q.fairweather@example.net",
    "fediverse_handle": "@quillonia@mastodon.example",
    "claimed_handle": "quillfair.example",
    "public_endpoint": "sip:quillonia@sip.example.org",
    "private_endpoint": "xmpp:quillonia@chat.example.org",
}


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """A cheap hasher: the tests check who may delete, not how passwords are stored."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def built(django_capture_on_commit_callbacks):
    """``with built(): ...`` runs the on-commit callbacks (index syncs) the block scheduled."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def make_person(username: str, email: str, nickname: str, handle: str) -> tuple[User, Entry]:
    user = User.objects.create_user(username=username, email=email, password=PASSWORD)
    entry = services.entry_create(owner=user, nickname=nickname, handle=handle)
    return user, entry


@pytest.fixture
def people(built):
    """Quillonia with every kind of data; Bob and Charlie with their own."""
    q = QUILLONIA
    with built():
        quillonia, entry = make_person(q["username"], q["email"], q["nickname"], q["handle"])
        for kind, raw in (("email", q["email_handle"]), ("fediverse", q["fediverse_handle"])):
            services.handle_mark_verified(
                handle=services.handle_add(entry=entry, kind=kind, raw=raw)
            )
        services.handle_add(entry=entry, kind="domain", raw=q["claimed_handle"])
        services.endpoint_add(entry=entry, uri=q["public_endpoint"], preference=10)
        services.endpoint_add(
            entry=entry, uri=q["private_endpoint"], audience=Endpoint.Audience.NOBODY
        )
        bob, bob_entry = make_person("bob", "bob.bobbington@example.com", "Bob Bobbington", "bob")
        services.endpoint_add(entry=bob_entry, uri="sip:bob.private@sip.example.com")
        charlie, charlie_entry = make_person(
            "charlie", "charlie.chaplin@example.com", "Charlie Chaplin", "charliec"
        )
    contact_save(owner=entry, saved=bob_entry, note="met at the conference")
    contact_save(owner=bob_entry, saved=entry)
    contact_save(owner=charlie_entry, saved=entry)
    audit_record(action=AuditEvent.Action.SIGN_IN, user=quillonia, method="password")
    audit_record(action=AuditEvent.Action.SIGN_IN, user=bob, method="password")
    TOTPDevice.objects.create(user=quillonia, name="Phone authenticator")
    StaticDevice.objects.create(user=quillonia, name="Backup codes")
    EmailDevice.objects.create(user=quillonia, name="Email codes", email=q["email"])
    if OAUTH:
        make_oauth(quillonia, bob, charlie)
    return {"quillonia": quillonia, "entry": entry, "bob": bob, "charlie": charlie}


def make_oauth(quillonia: User, bob: User, charlie: User) -> None:
    """Quillonia registered an app Charlie uses, and let Bob's app act for her."""
    from oauth2_provider.models import get_access_token_model, get_application_model

    application, token = get_application_model(), get_access_token_model()
    expires = timezone.now() + timedelta(hours=1)
    hers = application.objects.create(
        user=quillonia,
        name="Quillonia Dialer",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://dialer.example/quillonia/callback",
    )
    bobs = application.objects.create(
        user=bob,
        name="Bob Phone",
        client_type="confidential",
        authorization_grant_type="authorization-code",
        redirect_uris="https://phone.example/callback",
    )
    token.objects.create(
        user=quillonia,
        application=bobs,
        token="t-1",
        scope="lookup contacts:read entry:write",
        expires=expires,
    )
    token.objects.create(
        user=charlie, application=hers, token="t-2", scope="lookup", expires=expires
    )


def signed_in(user: User) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


# ---------------------------------------------------------------------------- export


def test_it_exports_every_kind_of_data_about_the_person(people):
    export = account_export(user=people["quillonia"])

    assert (export["format"], export["version"]) == ("worldbook.export", 1)
    assert export["account"]["username"] == QUILLONIA["username"]
    assert export["account"]["email"] == QUILLONIA["email"]
    assert export["account"]["date_joined"]
    [entry] = export["entries"]
    assert (entry["handle"], entry["nickname"]) == ("@quillfair", QUILLONIA["nickname"])
    assert entry["findable_by_number"] is True
    assert {(h["kind"], h["status"]) for h in entry["handles"]} == {
        ("email", "verified"),
        ("fediverse", "verified"),
        ("domain", "unverified"),
    }
    assert all(h["created_at"] for h in entry["handles"])
    assert [(e["uri"], e["audience"]) for e in entry["endpoints"]] == [
        (QUILLONIA["public_endpoint"], "everyone"),
        (QUILLONIA["private_endpoint"], "nobody"),
    ]
    assert entry["contacts"] == {
        "saved": [
            {
                "handle": "@bob",
                "note": "met at the conference",
                "saved_at": entry["contacts"]["saved"][0]["saved_at"],
            }
        ],
        "saved_by_count": 2,
    }
    assert sorted(f["name"] for f in export["second_factors"]) == [
        "Backup codes",
        "Email codes",
        "Phone authenticator",
    ]
    assert [(e["action"], e["data"]) for e in export["audit_events"]] == [
        ("sign_in", {"method": "password"})
    ]
    assert set(export["apps"]) == {"applications", "tokens", "grants"}
    if OAUTH:
        assert [a["name"] for a in export["apps"]["applications"]] == ["Quillonia Dialer"]
        [token] = export["apps"]["tokens"]
        assert (token["application"], token["scope"]) == (
            "Bob Phone",
            ["lookup", "contacts:read", "entry:write"],
        )
    json.dumps(export)  # the document is plain JSON


def test_it_records_each_export_as_an_audit_event(people):
    quillonia = people["quillonia"]
    account_export(user=quillonia)
    data_rights.account_export_vcard(user=quillonia)
    assert list(
        AuditEvent.objects.filter(user=quillonia, action="data_exported").values_list(
            "data", flat=True
        )
    ) == [{"format": "vcard"}, {"format": "json"}]


def test_it_exports_nothing_of_other_people(people):
    text = json.dumps(account_export(user=people["quillonia"])).lower()
    # Bob is in her address book by handle only; who saved her (Charlie) is only counted.
    for value in (
        "bob.bobbington@example.com",
        "Bob Bobbington",
        "sip:bob.private@sip.example.com",
        "charlie",
        "Charlie Chaplin",
    ):
        assert value.lower() not in text


def test_it_exports_no_secret(people):
    totp = TOTPDevice.objects.get(user=people["quillonia"])
    text = json.dumps(account_export(user=people["quillonia"]))
    assert totp.key not in text
    assert people["quillonia"].password not in text
    assert '"t-1"' not in text  # the token string she gave Bob's app


def test_it_exports_the_entries_as_vcards_with_every_endpoint(people):
    text = data_rights.account_export_vcard(user=people["quillonia"])
    [card] = list(vobject.readComponents(text))
    assert card.version.value == "4.0"
    assert card.fn.value == QUILLONIA["nickname"]
    # The owner's view: the endpoint no one else may see is there too.
    assert QUILLONIA["private_endpoint"] in text
    assert QUILLONIA["public_endpoint"] in text


def test_it_serves_the_export_from_the_api(people):
    client = signed_in(people["quillonia"])
    response = client.get("/api/v1/me/export")
    assert response.status_code == 200
    assert response.json()["entries"][0]["handle"] == "@quillfair"
    assert "attachment" in response["Content-Disposition"]

    response = client.get("/api/v1/me/export.vcf")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    assert b"BEGIN:VCARD" in response.content


def test_it_asks_for_sign_in_before_exporting_over_the_api():
    response = APIClient().get("/api/v1/me/export")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


@pytest.mark.skipif(not OAUTH, reason="needs django-oauth-toolkit")
def test_it_refuses_an_app_acting_for_the_person(people):
    client = APIClient()
    # The token Quillonia gave Bob's app (see make_oauth), with every scope there is.
    client.credentials(HTTP_AUTHORIZATION="Bearer t-1")
    assert client.get("/api/v1/resolve", {"handle": "@quillfair"}).status_code == 200
    for method, path in (
        ("get", "/api/v1/me/export"),
        ("get", "/api/v1/me/export.vcf"),
        ("delete", "/api/v1/me"),
    ):
        response = getattr(client, method)(path, {"password": PASSWORD}, format="json")
        assert response.status_code == 401, path
    assert User.objects.filter(pk=people["quillonia"].pk).exists()
    assert not AuditEvent.objects.filter(action="data_exported").exists()


def test_it_offers_the_downloads_on_the_data_page(people, client):
    client.force_login(people["quillonia"])
    page = client.get(reverse("data_rights:page"))
    assert page.status_code == 200
    assert reverse("data_rights:export-json").encode() in page.content
    assert reverse("data_rights:export-vcard").encode() in page.content

    download = client.get(reverse("data_rights:export-json"))
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    assert json.loads(download.content)["account"]["username"] == QUILLONIA["username"]
    download = client.get(reverse("data_rights:export-vcard"))
    assert download.content.startswith(b"BEGIN:VCARD")


def test_it_sends_a_stranger_to_sign_in_from_the_data_page(client):
    response = client.get(reverse("data_rights:page"))
    assert response.status_code == 302


# -------------------------------------------------------------------------- deletion


def test_it_refuses_deletion_with_a_wrong_password_and_keeps_everything(people):
    client = signed_in(people["quillonia"])
    response = client.delete("/api/v1/me", {"password": "not it"}, format="json")
    assert response.status_code == 403
    assert response.json()["type"].endswith("/password-not-confirmed")
    assert User.objects.filter(pk=people["quillonia"].pk).exists()
    assert Entry.objects.filter(pk=people["entry"].pk).exists()


def test_it_asks_for_the_password_to_delete(people):
    response = signed_in(people["quillonia"]).delete("/api/v1/me", {}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()["errors"]


def test_it_shows_the_form_again_after_a_wrong_password_on_the_page(people, client):
    client.force_login(people["quillonia"])
    assert client.get(reverse("data_rights:delete")).status_code == 200
    response = client.post(reverse("data_rights:delete"), {"password": "not it"})
    assert response.status_code == 403
    assert b"current password to delete it" in response.content
    assert User.objects.filter(pk=people["quillonia"].pk).exists()


def test_it_deletes_the_account_from_the_page_and_signs_out(people, client, built):
    client.force_login(people["quillonia"])
    with built():
        response = client.post(reverse("data_rights:delete"), {"password": PASSWORD})
    assert response.status_code == 200
    assert not User.objects.filter(pk=people["quillonia"].pk).exists()
    assert "_auth_user_id" not in client.session


def test_it_rolls_the_whole_deletion_back_when_a_step_fails(people, monkeypatch):
    quillonia = people["quillonia"]

    def failing_audit_record(**kwargs):
        raise RuntimeError("the audit log is unavailable")

    monkeypatch.setattr(data_rights, "audit_record", failing_audit_record)
    with pytest.raises(RuntimeError):
        account_delete(user=quillonia, password=PASSWORD)

    assert User.objects.filter(pk=quillonia.pk).exists()
    assert Entry.objects.filter(owner=quillonia).count() == 1
    assert Handle.objects.filter(entry__owner=quillonia).count() == 3
    assert Endpoint.objects.filter(entry__owner=quillonia).count() == 2
    assert Contact.objects.filter(owner__owner=quillonia).count() == 1
    assert Contact.objects.filter(saved__owner=quillonia).count() == 2
    assert TOTPDevice.objects.filter(user=quillonia).exists()
    assert AuditEvent.objects.get(user=quillonia, action="sign_in").data == {"method": "password"}


def test_it_refuses_a_wrong_password_in_the_service(people):
    with pytest.raises(PasswordNotConfirmed):
        account_delete(user=people["quillonia"], password="nope")


def _text_columns(model) -> list[str]:
    return [
        field.attname
        for field in model._meta.concrete_fields
        if isinstance(field, models.CharField | models.TextField | models.JSONField)
    ]


def rows_naming(values: list[str]) -> list[str]:
    """``model.column = row`` for every row of every table whose text or JSON column
    contains one of ``values``, case-insensitively."""
    found = []
    for model in apps.get_models(include_auto_created=True):
        for column in _text_columns(model):
            for value in values:
                hits = model._default_manager.filter(**{f"{column}__icontains": value})
                found += [f"{model._meta.label}.{column} ∋ {value!r}" for _ in hits]
    return found


def test_it_leaves_no_row_and_no_index_document_naming_the_deleted_person(people, built):
    quillonia, entry = people["quillonia"], people["entry"]
    q = QUILLONIA
    names = [
        q["username"],
        q["email"],
        q["handle"],
        q["nickname"],
        q["email_handle"],
        q["fediverse_handle"].lstrip("@"),
        q["claimed_handle"],
        q["public_endpoint"],
        q["private_endpoint"],
        "fairweather",  # a word of the nickname, kept apart in the typo dictionary
    ]
    if OAUTH:
        names.append("https://dialer.example/quillonia/callback")
    moderator = User.objects.create_user(username="moderator", password=PASSWORD)
    LogEntry.objects.create(
        user=moderator,
        content_type=ContentType.objects.get_for_model(Entry),
        object_id=str(entry.pk),
        object_repr=str(entry),
        action_flag=CHANGE,
        change_message="Suspended for review",
    )
    with built():
        policy_update(entry=entry, user=quillonia, findable_by_number=False)
    client = signed_in(quillonia)
    # Signed in elsewhere too: that session must go as well.
    signed_in(quillonia)
    assert Session.objects.count() == 2

    # The index held her, so an empty index afterwards is not vacuous.
    assert SearchDocument.objects.filter(pk=entry.pk).exists()
    assert SearchTerm.objects.filter(document_id=entry.pk, term="quillfair").exists()
    assert TermVariant.objects.filter(term="fairweather").exists()
    assert rows_naming(names)

    with built():
        response = client.delete("/api/v1/me", {"password": PASSWORD}, format="json")
    assert response.status_code == 204

    assert rows_naming(names) == []
    assert not SearchDocument.objects.filter(pk=entry.pk).exists()
    assert not SearchTerm.objects.filter(document_id=entry.pk).exists()
    assert Session.objects.count() == 0
    assert not Contact.objects.filter(saved_id=entry.pk).exists()
    assert not TOTPDevice.objects.filter(user_id=quillonia.pk).exists()
    if OAUTH:
        from oauth2_provider.models import get_access_token_model

        # Her grant to Bob's app, and Charlie's token for her app, went with her.
        assert list(get_access_token_model().objects.values_list("token", flat=True)) == []
    # Her past events stay as bare facts; the deletion itself is recorded without her.
    kept = AuditEvent.objects.filter(user=None).exclude(action="account_deleted")
    assert {"sign_in", "policy_changed"} <= set(kept.values_list("action", flat=True))
    assert all((event.data, event.ip_address) == ({}, None) for event in kept)
    deleted = AuditEvent.objects.get(action="account_deleted")
    assert (deleted.user, deleted.ip_address, deleted.data) == (None, None, {"entries": 1})
    # Other people keep everything of theirs.
    assert Entry.objects.filter(handle="bob").exists()
    assert AuditEvent.objects.filter(user=people["bob"]).exists()
    assert SearchDocument.objects.filter(entry__handle="bob").exists()


def test_it_purges_removed_entries_from_the_index_twice_over(people):
    from search.tasks import remove_entries

    entry = people["entry"]
    assert TermVariant.objects.filter(term="fairweather").exists()
    remove_entries.delay([entry.pk])
    remove_entries.delay([entry.pk])  # a second delivery changes nothing
    assert not SearchDocument.objects.filter(pk=entry.pk).exists()
    assert not TermVariant.objects.filter(term="fairweather").exists()
    # Words another indexed entry still uses stay in the typo dictionary.
    assert TermVariant.objects.filter(term="bobbington").exists()


@pytest.mark.skipif(not apps.is_installed("axes"), reason="needs django-axes")
def test_it_counts_wrong_passwords_toward_the_sign_in_lock(people, settings):
    client = signed_in(people["quillonia"])
    for tries in range(1, settings.AXES_FAILURE_LIMIT + 1):
        response = client.delete("/api/v1/me", {"password": "guess"}, format="json")
        # The guess that reaches the limit is the one that locks.
        assert response.status_code == (429 if tries == settings.AXES_FAILURE_LIMIT else 403)
    # Locked: even the right password no longer deletes anything.
    response = client.delete("/api/v1/me", {"password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert response.json()["type"].endswith("/rate-limited")
    assert int(response["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert User.objects.filter(pk=people["quillonia"].pk).exists()
