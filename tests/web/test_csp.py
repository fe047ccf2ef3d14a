"""Content-Security-Policy: every page and API answer carries one, and it allows no
inline script or style without the request's nonce and nothing from another site."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db

ROOT = Path(settings.BASE_DIR)


def _policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


@pytest.mark.parametrize(
    "path",
    ["/", "/search?q=ada", "/@nobody-here", "/account/sign-in/", "/account/sign-up/",
     "/admin/login/", "/api/v1/resolve?handle=@nobody-here", "/.well-known/webfinger",
     "/api/docs/"],
)
def test_it_sends_a_policy_that_keeps_to_this_site(client, path):
    policy = _policy(client.get(path))
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    for directive in ("script-src", "style-src"):
        values = policy[directive]
        assert "'unsafe-inline'" not in values and "'unsafe-eval'" not in values
        assert all(v == "'self'" or v.startswith("'nonce-") for v in values), values


def test_the_nonce_on_the_swagger_page_is_the_one_in_its_policy(client):
    response = client.get("/api/docs/")
    nonce = next(v for v in _policy(response)["style-src"] if v.startswith("'nonce-"))
    assert f'<style nonce="{nonce[7:-1]}">' in response.content.decode()


def test_redoc_may_style_itself_inline_but_runs_no_inline_script(client):
    response = client.get("/api/redoc/")
    policy = _policy(response)
    assert "'unsafe-inline'" in policy["style-src"]
    assert "'unsafe-inline'" not in policy["script-src"]
    html = response.content.decode()
    assert "fonts.googleapis.com" not in html
    assert re.search(r"<script>(?!</script>)", html) is None


def _templates() -> list[Path]:
    found = list((ROOT / "templates").rglob("*.html"))
    for app in ("directory", "accounts", "search"):
        found += list((ROOT / app).rglob("templates/**/*.html"))
    return sorted(found)


@pytest.mark.parametrize("template", _templates(), ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_holds_inline_script_style_or_handlers(template):
    """Inline code would be refused by the policy; it belongs in static files."""
    text = template.read_text()
    inline_script = r"<script(?![^>]*\bsrc=)(?![^>]*\bnonce=)[^>]*>"
    assert re.search(inline_script, text) is None, "inline <script>"
    assert re.search(r"<style(?![^>]*\bnonce=)[^>]*>", text) is None, "inline <style>"
    assert re.search(r"\sstyle=\"", text) is None, "style attribute"
    assert re.search(r"\son[a-z]+=\"", text) is None, "inline event handler"
