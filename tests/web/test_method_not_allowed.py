"""A web page asked with a method it does not take answers the styled 405 page, with its
Allow header and the site's Content-Security-Policy; the API keeps its problem document."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_page_answers_the_styled_405_page(client):
    response = client.get("/account/sign-out/")  # sign-out takes only POST

    assert response.status_code == 405
    assert "POST" in response["Allow"]
    assert "Content-Security-Policy" in response.headers
    page = response.content.decode()
    assert "<h1>This page does not work that way</h1>" in page
    assert 'href="/"' in page


def test_the_api_keeps_its_problem_document(client):
    response = client.delete("/api/v1/resolve?handle=@nobody-here")

    assert response.status_code == 405
    assert response["Content-Type"].startswith("application/problem+json")
    assert "This page does not work that way" not in response.content.decode()
