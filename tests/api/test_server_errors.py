"""An unhandled exception under /api/ answers a 500 problem document, not the HTML page."""

from __future__ import annotations

import pytest
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from rest_framework.views import APIView

from directory.urls import handler500  # noqa: F401
from directory.urls import urlpatterns as project_urlpatterns


def _broken(request):
    raise RuntimeError("a bug")


class _BrokenApi(APIView):
    authentication_classes: list = []
    permission_classes: list = []

    def get(self, request):
        raise RuntimeError("a bug in an API view")


urlpatterns = [
    path("api/v1/_broken-view", _broken),
    path("api/v1/_broken-api", _BrokenApi.as_view()),
    path("_broken-page", _broken),
    path("ok", lambda request: HttpResponse("ok")),
    *project_urlpatterns,
]

pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.mark.parametrize("url", ["/api/v1/_broken-view", "/api/v1/_broken-api"])
def test_an_unhandled_error_under_the_api_is_a_problem_document(url):
    client = Client(raise_request_exception=False)

    response = client.get(url, HTTP_ACCEPT="application/json")

    assert response.status_code == 500
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 500
    assert body["type"].endswith("/server-error")
    assert "a bug" not in response.content.decode()


def test_an_unhandled_error_on_a_page_keeps_the_html_error_page():
    client = Client(raise_request_exception=False)

    response = client.get("/_broken-page")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
