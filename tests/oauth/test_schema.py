"""The OpenAPI schema documents OAuth2: both flows, the scopes, and each operation's."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.core.management import call_command

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker) -> dict:
    path = tmp_path_factory.mktemp("schema") / "schema.json"
    with django_db_blocker.unblock():
        call_command(
            "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json",
            "--file", str(path),
        )  # fmt: skip
    return json.loads(path.read_text())


def test_it_documents_both_oauth2_flows_with_every_scope(schema):
    scheme = schema["components"]["securitySchemes"]["oauth2"]
    scopes = settings.OAUTH2_PROVIDER["SCOPES"]

    assert scheme["type"] == "oauth2"
    assert set(scheme["flows"]) == {"clientCredentials", "authorizationCode"}
    assert scheme["flows"]["authorizationCode"]["authorizationUrl"].endswith("/o/authorize/")
    for flow in scheme["flows"].values():
        assert flow["tokenUrl"].endswith("/o/token/")
        assert flow["scopes"] == scopes
    assert set(scopes) == {"lookup", "contacts:read", "entry:write"}


@pytest.mark.parametrize(
    ("path", "method", "scope"),
    [
        ("/api/v1/resolve", "get", "lookup"),
        ("/api/v1/search", "get", "lookup"),
        ("/api/v1/entries/{handle}", "get", "lookup"),
        ("/api/v1/entries", "post", "entry:write"),
        ("/api/v1/entries/{handle}", "patch", "entry:write"),
        ("/api/v1/entries/{handle}/endpoints", "post", "entry:write"),
        ("/api/v1/contacts", "get", "contacts:read"),
        ("/api/v1/contacts", "post", "entry:write"),
    ],
)
def test_it_names_the_scope_each_operation_needs(schema, path, method, scope):
    assert {"oauth2": [scope]} in schema["paths"][path][method]["security"]
