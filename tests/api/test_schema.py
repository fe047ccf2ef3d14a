"""The OpenAPI 3 schema (drf-spectacular) and the pages that show it."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db

OPERATIONS = {
    ("/api/v1/resolve", "get"),
    ("/api/v1/search", "get"),
    ("/api/v1/entries", "post"),
    ("/api/v1/entries/{handle}", "get"),
    ("/api/v1/entries/{handle}", "patch"),
    ("/api/v1/entries/{handle}", "delete"),
    ("/api/v1/entries/{handle}/handles", "get"),
    ("/api/v1/entries/{handle}/handles", "post"),
    ("/api/v1/entries/{handle}/handles/{handle_id}", "delete"),
    ("/api/v1/entries/{handle}/endpoints", "get"),
    ("/api/v1/entries/{handle}/endpoints", "post"),
    ("/api/v1/entries/{handle}/endpoints/{endpoint_id}", "patch"),
    ("/api/v1/entries/{handle}/endpoints/{endpoint_id}", "delete"),
    ("/api/v1/contacts", "get"),
    ("/api/v1/contacts", "post"),
    ("/api/v1/contacts/import", "post"),
    ("/api/v1/contacts/{handle}", "delete"),
    ("/api/v1/me", "delete"),
    ("/api/v1/me/export", "get"),
    ("/api/v1/me/export.vcf", "get"),
    # Handle verification (directory.verification)
    ("/api/v1/entries/{handle}/handles/{handle_id}/verification", "get"),
    ("/api/v1/entries/{handle}/handles/{handle_id}/verification", "post"),
    ("/api/v1/entries/{handle}/handles/{handle_id}/verification/check", "post"),
    ("/api/v1/entries/{handle}/handles/{handle_id}/verification/code", "post"),
    ("/api/v1/entries/{handle}/handles/{handle_id}/verification/checks", "get"),
    # Phone numbers (directory.numbers).
    ("/api/v1/numbers/{e164}", "get"),
    ("/api/v1/discover", "post"),
    ("/api/v1/entries/{handle}/numbers", "get"),
    ("/api/v1/entries/{handle}/numbers", "post"),
    ("/api/v1/entries/{handle}/numbers/verify", "post"),
    ("/api/v1/entries/{handle}/numbers/{number_id}", "patch"),
    ("/api/v1/entries/{handle}/numbers/{number_id}/retire", "post"),
    ("/api/v1/reports", "post"),  # moderation
}


@pytest.fixture
def schema(tmp_path) -> dict:
    """The schema as ``manage.py spectacular --validate --fail-on-warn`` writes it; the
    command fails on any warning and on a schema that does not validate as OpenAPI 3."""
    path = tmp_path / "schema.json"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json",
        "--file", str(path),
    )  # fmt: skip
    return json.loads(path.read_text())


def test_the_schema_validates_and_describes_every_operation(schema):
    described = {
        (path, method)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert described == OPERATIONS


def test_every_error_response_is_a_problem_document(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            errors = {code: r for code, r in operation["responses"].items() if int(code) >= 400}
            assert errors, (path, method)
            for code, response in errors.items():
                content = response["content"]
                assert list(content) == ["application/problem+json"], (path, method, code)
                assert content["application/problem+json"]["schema"] == {
                    "$ref": "#/components/schemas/Problem"
                }


def test_owner_operations_require_sign_in_and_lookups_do_not(schema):
    paths = schema["paths"]
    assert {} in paths["/api/v1/resolve"]["get"]["security"]
    assert {} in paths["/api/v1/entries/{handle}"]["get"]["security"]
    for path, method in OPERATIONS - {
        ("/api/v1/resolve", "get"),
        ("/api/v1/search", "get"),
        ("/api/v1/entries/{handle}", "get"),
    }:
        assert {} not in paths[path][method]["security"], (path, method)


def test_the_schema_and_its_documentation_pages_are_served(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    assert "/api/v1/resolve" in schema.json()["paths"]
    # Swagger UI's start-up script is served from its own URL (no inline script).
    for page in ("/api/docs/?script=", "/api/redoc/"):
        response = client.get(page)
        assert response.status_code == 200
        assert b"/api/schema/" in response.content
