"""People and entries for the contact-policy tests, built through the real actions.

Olive owns the entry under test, ``@olive``, with one endpoint per audience. The callers,
one of each kind the policy tells apart:

- ``anonymous``: no one signed in (a calling app using its client credentials is
  anonymous too: its requests carry no person);
- ``signed_in``: Sam, signed in, with no entry of his own;
- ``verified``: Vera, whose own entry has a verified handle;
- ``contact``: Cora, whose entry Olive saved (Cora has no verified handle);
- ``owner``: Olive herself.
"""

from __future__ import annotations

import uuid

import pytest
from django.test import Client

from accounts.contacts import contact_save
from directory.models import Endpoint
from directory.services import endpoint_add, entry_create, handle_add, handle_mark_verified

DOMAIN = "worldbook.example"
SITE_URL = f"https://{DOMAIN}"
CALLERS = ("anonymous", "signed_in", "verified", "contact", "owner")
AUDIENCES = tuple(Endpoint.Audience.values)


def token(audience: str) -> str:
    """The word that names the endpoint of ``audience`` in every representation."""
    return f"ep{audience.replace('_', '')}"


@pytest.fixture(autouse=True)
def _site(settings):
    settings.SITE_URL = SITE_URL
    settings.WORLDBOOK_DOMAIN = DOMAIN
    settings.ALLOWED_HOSTS = ["testserver", DOMAIN]
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Rate-limit counters live in the cache: each test starts with its own.
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"policy-tests-{uuid.uuid4().hex}",
        }
    }


@pytest.fixture
def people(django_user_model, django_capture_on_commit_callbacks):
    """The five callers and Olive's entry; the search index holds what was committed."""
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
            "signed_in": users["sam"],
            "verified": users["vera"],
            "contact": users["cora"],
            "owner": users["olive"],
        },
    }


def client_as(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client
