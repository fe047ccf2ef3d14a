"""The API classes the URL map routes to.

Django routes by path and DRF by method, so where several operations share one URL
(``GET``/``PATCH``/``DELETE /entries/{handle}``) one class serves them by inheriting
each operation's class. Each operation keeps its own class, serializers and schema; it
names its nested serializers through its own class (``EntryUpdateApi.InputSerializer``),
never through ``self``, so a sibling's serializer can never answer in its place.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponsePermanentRedirect
from django.http.response import HttpResponseBase
from django.urls import resolve
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated, IsAuthenticatedOrReadOnly
from rest_framework.request import Request
from rest_framework.views import APIView

from accounts.oauth import ENTRY_WRITE, SCOPE_ENTRY_WRITE, SCOPE_LOOKUP, TokenHasScopeOrSession
from directory.api.lookup import EntryDetailApi, ResolveApi, SearchApi
from directory.api.owner import (
    EndpointAddApi,
    EndpointListApi,
    EndpointRemoveApi,
    EndpointUpdateApi,
    EntryCreateApi,
    EntryDeleteApi,
    EntryUpdateApi,
    HandleAddApi,
    HandleListApi,
    HandleRemoveApi,
)
from directory.exceptions import NotFound

__all__ = [
    "ApiNotFound",
    "EndpointApi",
    "EndpointsApi",
    "EntryApi",
    "EntryCreateApi",
    "HandleRemoveApi",
    "HandlesApi",
    "ResolveApi",
    "SearchApi",
]


class EntryApi(EntryDetailApi, EntryUpdateApi, EntryDeleteApi):
    """``/entries/{handle}``: anyone reads; the owner changes and deletes."""

    permission_classes = [
        IsAuthenticatedOrReadOnly,
        TokenHasScopeOrSession([SCOPE_LOOKUP], write_scopes=[SCOPE_ENTRY_WRITE]),
    ]


class HandlesApi(HandleListApi, HandleAddApi):
    """``/entries/{handle}/handles``: the owner lists and claims handles."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]


class EndpointsApi(EndpointListApi, EndpointAddApi):
    """``/entries/{handle}/endpoints``: the owner lists and adds endpoints."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]


class EndpointApi(EndpointUpdateApi, EndpointRemoveApi):
    """``/entries/{handle}/endpoints/{id}``: the owner changes and deletes an endpoint."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]


@extend_schema(exclude=True)
class ApiNotFound(APIView):
    """Every other path under ``/api/``: a 404 problem document, whatever the method,
    instead of Django's HTML page."""

    def dispatch(self, request: HttpRequest, *args, **kwargs) -> HttpResponseBase:
        # This view matches every path, so CommonMiddleware's APPEND_SLASH never finds
        # one that fails to match; it is done here for pages such as /api/docs.
        if (
            settings.APPEND_SLASH
            and request.method in ("GET", "HEAD")
            and not request.path_info.endswith("/")
        ):
            match = resolve(request.path_info + "/")
            if getattr(match.func, "cls", None) is not ApiNotFound:
                return HttpResponsePermanentRedirect(request.get_full_path(force_append_slash=True))
        return super().dispatch(request, *args, **kwargs)

    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        raise NotFound("There is no API endpoint at this address.")
