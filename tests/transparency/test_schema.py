"""The OpenAPI schema documents ``?proof=1`` and the fields it adds."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_resolve_and_entry_reads_document_the_proof(tmp_path):
    path = tmp_path / "schema.json"
    call_command(
        "spectacular", "--validate", "--fail-on-warn", "--format", "openapi-json",
        "--file", str(path),
    )  # fmt: skip
    schema = json.loads(path.read_text())
    components = schema["components"]["schemas"]
    for url, component in (
        ("/api/v1/resolve", "Resolution"),
        ("/api/v1/entries/{handle}", "EntryAnswer"),
    ):
        operation = schema["paths"][url]["get"]
        proof = next(p for p in operation["parameters"] if p["name"] == "proof")
        assert proof["in"] == "query" and proof["schema"]["type"] == "boolean"
        assert "tlog-proof@v1" in proof["description"]
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ref.endswith("/" + component)
        fields = components[component]["properties"]
        assert {"proof", "leaf", "endpoint_salts"} <= set(fields)
        assert "proof" not in components[component].get("required", [])
