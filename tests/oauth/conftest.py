"""Calling apps end to end: OAuth2 tokens from /o/, used on the REST API.

Personas as in the API tests: alice owns an entry with endpoints for every audience;
bob is signed in and approves apps; dave develops the apps. Apps are registered through
:func:`accounts.calling_apps.services.app_register`, tokens obtained from the real token
endpoint with the test client.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
from rest_framework.test import APIClient

from accounts.calling_apps.models import CallingApp
from accounts.calling_apps.services import app_register
from accounts.models import User
from directory.models import Entry
from tests.api.conftest import EntryFactory, UserFactory, reach

SITE_URL = "https://worldbook.example"
REDIRECT_URI = "https://app.example/callback"
TOKEN_URL = "/o/token/"
AUTHORIZE_URL = "/o/authorize/"
RESOLVE_URL = "/api/v1/resolve"


@pytest.fixture(autouse=True)
def _site(settings):
    """Our site URL, cheap password hashing (client secrets are hashed the same way) and a
    cache (the throttle counters) that no other test shares."""
    settings.SITE_URL = SITE_URL
    settings.WORLDBOOK_DOMAIN = "worldbook.example"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"oauth-tests-{uuid.uuid4().hex}",
        }
    }


@dataclass
class Client:
    """A registered app as its developer holds it: the app and its secret in clear."""

    app: CallingApp
    secret: str

    @property
    def basic(self) -> str:
        """HTTP Basic client authentication (RFC 6749 §2.3.1)."""
        pair = f"{self.app.client_id}:{self.secret}".encode()
        return "Basic " + base64.b64encode(pair).decode()


@pytest.fixture
def dave(db) -> User:
    return UserFactory(username="dave")


@pytest.fixture
def bob(db) -> User:
    return UserFactory(username="bob")


@pytest.fixture
def alice(db) -> Entry:
    """Alice's entry, one endpoint per audience."""
    entry = EntryFactory(handle="alice", nickname="Alice", owner=UserFactory(username="alice"))
    for n, audience in enumerate(["everyone", "signed_in", "verified", "contacts", "nobody"]):
        reach(entry, f"sip:{audience}@alice.example", audience=audience, preference=n)
    return entry


@pytest.fixture
def bobs_entry(bob) -> Entry:
    return EntryFactory(handle="bob", nickname="Bob", owner=bob)


def register(developer: User, *grant_types: str, client_type: str = "confidential") -> Client:
    registration = app_register(
        developer=developer,
        name="Dialer",
        client_type=client_type,
        grant_types=set(grant_types),
        redirect_uris=[REDIRECT_URI] if "authorization-code" in grant_types else [],
    )
    return Client(registration.app, registration.client_secret)


@pytest.fixture
def server_app(dave) -> Client:
    """A confidential app that looks people up as itself."""
    return register(dave, "client-credentials")


@pytest.fixture
def phone_app(dave) -> Client:
    """A public app (on people's phones) that acts for the person who approves it."""
    return register(dave, "authorization-code", client_type="public")


def client_credentials_token(client: Client, scope: str = "lookup") -> dict:
    response = APIClient().post(
        TOKEN_URL,
        {"grant_type": "client_credentials", "scope": scope},
        HTTP_AUTHORIZATION=client.basic,
    )
    assert response.status_code == 200, response.content
    return response.json()


def pkce_pair() -> tuple[str, str]:
    """A PKCE code verifier and its S256 code challenge (RFC 7636 §4.1–4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorization_code(user: User, client: Client, *, scope: str, challenge: str) -> str:
    """``user`` signs in and approves ``client`` at /o/authorize/; the code it gets back."""
    browser = APIClient()
    browser.force_login(user)
    query = {
        "response_type": "code",
        "client_id": client.app.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "st4te",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = browser.get(AUTHORIZE_URL, query)
    assert page.status_code == 200, page.content
    approved = browser.post(AUTHORIZE_URL, {**query, "allow": "Authorize"})
    assert approved.status_code == 302, approved.content
    location = urlsplit(approved["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    params = parse_qs(location.query)
    assert params["state"] == ["st4te"]
    return params["code"][0]


def exchange(client: Client, code: str, verifier: str):
    return APIClient().post(
        TOKEN_URL,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": client.app.client_id,
            "code_verifier": verifier,
        },
    )


def user_token(user: User, client: Client, scope: str) -> dict:
    """An access token ``client`` holds for ``user`` after the full PKCE flow."""
    verifier, challenge = pkce_pair()
    code = authorization_code(user, client, scope=scope, challenge=challenge)
    response = exchange(client, code, verifier)
    assert response.status_code == 200, response.content
    return response.json()


def bearer(token: dict) -> APIClient:
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token['access_token']}")
    return api


def shown_endpoints(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [e["uri"] for e in response.json()["endpoints"]]
