"""The README's resolve and search examples answer as printed against the demo directory.

The demo is loaded by the command ``./deploy/run`` runs (``manage.py load_demo``, with
``DEMO_DATA`` on), and the handles are read from the README itself, so the test breaks when
the README and the demo drift apart.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from django.core.cache import cache
from django.core.management import call_command

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
# curl "$B/api/v1/resolve?handle=X"  # form → 200 @entry
ONE_LINE = re.compile(
    r'^curl "\$B/api/v1/resolve\?handle=([^"]+)"\s+# (.+?) → (\d{3})(?: (@\S+))?$', re.M
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings, django_capture_on_commit_callbacks):
    """The demo directory as ./deploy/run serves it on its default port."""
    run = (ROOT / "deploy" / "run").read_text()
    assert "python manage.py load_demo deploy/demo --region US" in run
    assert 'DEMO_DATA="${DEMO_DATA:-true}"' in run
    settings.DEMO_DATA = True
    settings.SITE_URL = "http://localhost:8000"
    settings.WORLDBOOK_DOMAIN = "localhost"
    cache.clear()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("load_demo", str(ROOT / "deploy" / "demo"), region="US", verbosity=0)
    yield
    cache.clear()


def _printed_answer(command: str) -> object:
    """The ```json block printed right after the ```sh block holding ``command``."""
    block = re.search(
        re.escape(command) + r"\n```\n```json\n(.*?)\n```", README, re.S
    ).group(1)
    return json.loads(block)


def _elide_times(value: object) -> object:
    """The answer with each non-null ``verified_at`` written "…", as the README does."""
    if isinstance(value, dict):
        return {
            k: ("…" if k == "verified_at" and v is not None else _elide_times(v))
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_elide_times(item) for item in value]
    return value


def test_the_readme_resolve_examples_of_each_form_answer_as_printed(client, demo):
    examples = ONE_LINE.findall(README)
    forms = {form for _handle, form, _status, _entry in examples}
    assert {"email address", "fediverse", "Matrix", "domain"} <= forms, forms

    for handle, form, status, entry in examples:
        response = client.get("/api/v1/resolve", {"handle": handle})
        assert response.status_code == int(status), (handle, form, response.content)
        if entry:
            assert response.json()["entry"]["handle"] == entry, (handle, form)


def test_the_readme_prints_the_real_answers(client, demo):
    for command, path, query in (
        ('curl "$B/api/v1/resolve?handle=@bob:example.org"', "/api/v1/resolve",
         {"handle": "@bob:example.org"}),
        ('curl "$B/api/v1/search?q=dubios"', "/api/v1/search", {"q": "dubios"}),
    ):  # fmt: skip
        response = client.get(path, query)
        assert response.status_code == 200, response.content
        assert _elide_times(response.json()) == _printed_answer(command), command
