"""People and entries for the contact-policy tests, built through the real actions.

Olive owns the entry under test, ``@olive``, with one endpoint per audience. The callers,
one of each kind the policy tells apart:

- ``anonymous``: no one signed in;
- ``app``: a calling app with a client-credentials token (OAuth2, RFC 6749 §4.4), which
  acts for no person and so counts as anonymous;
- ``signed_in``: Sam, signed in, with no entry of his own;
- ``verified``: Vera, whose own entry has a verified handle;
- ``contact``: Cora, whose entry Olive saved (Cora has no verified handle);
- ``owner``: Olive herself.
"""

from __future__ import annotations

import base64

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from accounts.calling_apps.models import CallingApp
from accounts.calling_apps.services import GRANT_CLIENT_CREDENTIALS, app_register
from accounts.contacts import contact_save
from directory.models import Endpoint
from directory.services import endpoint_add, entry_create, handle_add, handle_mark_verified
from tests.sites import DOMAIN, SITE_URL, use_test_site  # noqa: F401 (the tests import them from here)

CALLERS = ("anonymous", "app", "signed_in", "verified", "contact", "owner")
AUDIENCES = tuple(Endpoint.Audience.values)


def token(audience: str) -> str:
    """The word that names the endpoint of ``audience`` in every representation."""
    return f"ep{audience.replace('_', '')}"


@pytest.fixture(autouse=True)
def _site(settings):
    use_test_site(settings, "policy-tests")


@pytest.fixture
def people(django_user_model, django_capture_on_commit_callbacks):
    """The callers and Olive's entry; the search index holds what was committed."""
    with django_capture_on_commit_callbacks(execute=True):
        users = {
            name: django_user_model.objects.create_user(name, f"{name}@example.org", "pw")
            for name in ("olive", "sam", "vera", "cora")
        }
        olive = entry_create(nickname="Olive Oyl", handle="olive", owner=users["olive"])
        for preference, audience in enumerate(AUDIENCES, start=1):
            endpoint_add(
                entry=olive,
                uri=f"sip:{token(audience)}@example.org",
                audience=audience,
                preference=preference,
            )
        vera = entry_create(nickname="Vera", handle="vera", owner=users["vera"])
        handle_mark_verified(handle=handle_add(entry=vera, kind="github", raw="vera-v"))
        cora = entry_create(nickname="Cora", handle="cora", owner=users["cora"])
        contact_save(owner=olive, saved=cora)
    return {
        "entry": olive,
        "users": {
            "anonymous": None,
            "app": "app",
            "signed_in": users["sam"],
            "verified": users["vera"],
            "contact": users["cora"],
            "owner": users["olive"],
        },
    }


def app_token() -> str:
    """Register a calling app and get a client-credentials token (scope ``lookup``)
    from the token endpoint, as the app itself would."""
    developer = get_user_model().objects.create_user("dev", "dev@example.org", "pw")
    registration = app_register(
        developer=developer,
        name="Dialer",
        client_type=CallingApp.CLIENT_CONFIDENTIAL,
        grant_types={GRANT_CLIENT_CREDENTIALS},
        redirect_uris=[],
    )
    credentials = f"{registration.app.client_id}:{registration.client_secret}"
    response = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "lookup"},
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(credentials.encode()).decode(),
    )
    assert response.status_code == 200, response.content
    return response.json()["access_token"]


def client_as(user) -> Client:
    """A client for ``user``: ``None`` for no one, ``"app"`` for a calling app's
    client-credentials token, else a signed-in person."""
    if user == "app":
        return Client(headers={"Authorization": f"Bearer {app_token()}"})
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
