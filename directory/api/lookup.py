"""Lookup operations: resolve any handle, read an entry, search the directory.

Reads go through :mod:`directory.selectors` and :mod:`directory.policy`, so a caller
sees of an entry exactly what the contact policy lets them see, here as on every other
surface. Anyone may call these; signing in only widens which endpoints are shown. A
calling app's OAuth2 token needs the ``lookup`` scope.
"""

from __future__ import annotations

from contextlib import contextmanager

from django.conf import settings
from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param
from rest_framework.views import APIView

from accounts.oauth import LOOKUP
from directory.answers import entry_answer, resolve_answer
from directory.api.schema import ENTRY_HANDLE, PROOF, RETRY_AFTER, problem_responses
from directory.api.serializers import EndpointSerializer, EntrySerializer, HandleSerializer
from directory.display import handles_for
from directory.exceptions import ConflictError, NormalizationError, NotFound, WorldbookError
from directory.models import Entry
from directory.policy import visible_endpoints
from directory.replicas import replica_reads
from directory.selectors import entry_get_by_handle, entry_resolve
from search.selectors import search_entries
from search.text import QUERY_MAX_LENGTH

# Longer than any handle form (a 2,048-character URL limit is the common one); past it
# the input is refused before any normalization runs.
HANDLE_QUERY_MAX = 2048
# Deep pages are a scraping tool and cost the search backend the most; the first
# thousand results are what people read (Meilisearch's own default cap is 1,000 hits).
SEARCH_MAX_PAGE = 50


@contextmanager
def errors_on(field: str, *kinds: type[WorldbookError]):
    """Name ``field`` as the culprit of an error of ``kinds`` (default: normalization
    errors and conflicts) raised inside, so the problem document lists it under
    ``errors``."""
    caught = kinds or (NormalizationError, ConflictError)
    try:
        yield
    except caught as exc:
        if not exc.errors:
            exc.errors = {field: [exc.detail]}
        raise


def _plain_query(value: str | None) -> str | None:
    """``value`` stripped, when :class:`ResolveApi.InputSerializer` would take it as it
    is (a non-blank string within the length limit, no NUL); else ``None``."""
    if value is None or "\x00" in value:
        return None
    value = value.strip()
    return value if 0 < len(value) <= HANDLE_QUERY_MAX else None


def entry_card(entry: Entry, caller) -> dict:
    """What ``caller`` may see of ``entry``: the entry, its handles and the endpoints
    the contact policy lets them use, in preference order."""
    return {
        "entry": entry,
        "handles": [view.handle for view in handles_for(entry, caller)],
        "endpoints": visible_endpoints(entry, caller),
    }


class EntryCardSerializer(serializers.Serializer):
    entry = EntrySerializer()
    handles = HandleSerializer(
        many=True,
        help_text="Claimed handles with their verification status. Phone-number "
        "handles are shown to the owner only.",
    )
    endpoints = EndpointSerializer(
        many=True,
        help_text="Only the endpoints this caller may use, in preference order.",
    )

    class Meta:
        ref_name = "EntryCard"


class LogProofFields(serializers.Serializer):
    """The transparency log fields an answer carries with ``?proof=1`` (schema only)."""

    proof = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="c2sp.org/tlog-proof@v1: `index`, the inclusion proof and the signed "
        "checkpoint (with witness cosignatures) proving `leaf` is in the log. Only with "
        "`?proof=1`; null when the log has no published record of the handle yet.",
    )
    leaf = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="The handle's latest binding record, the log entry's exact bytes as "
        "UTF-8 (canonical JSON, docs/transparency.md).",
    )
    endpoint_salts = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_null=True,
        help_text="For each endpoint of `endpoints`, in order, the base64 salt opening "
        "the record's commitment to it.",
    )


class EntryAnswerSerializer(EntryCardSerializer, LogProofFields):
    class Meta:
        ref_name = "EntryAnswer"


def with_proof(request: Request, answer) -> dict:
    """``answer`` with the transparency log fields when the query asks ``proof=1``.

    Raises WorldbookError (400) for a ``proof`` that is not 1, true, 0 or false.
    """
    value = request.query_params.get("proof")
    if value is None:
        return answer
    if value not in ("1", "true", "0", "false"):
        detail = "proof takes 1 (or true) to add the log's proof, 0 (or false) not to."
        raise WorldbookError(detail, errors={"proof": [detail]})
    if value in ("0", "false"):
        return answer
    from transparency.selectors import answer_proof

    return {**answer, **answer_proof(answer)}


_ALICE = {
    "handle": "@alice",
    "nickname": "Alice Liddell",
    "acct": "acct:alice@worldbook.example",
    "url": "https://worldbook.example/@alice",
}
_ALICE_HANDLES = [
    {
        "kind": "fediverse",
        "value": "alice@mastodon.social",
        "display": "@alice@mastodon.social",
        "uri": "acct:alice@mastodon.social",
        "status": "verified",
        "verified_at": "2026-03-01T09:30:00Z",
        "verification": {"method": "fediverse", "note": None},
    }
]
_ALICE_ENDPOINTS = [
    {
        "uri": "matrix:u/alice:matrix.org",
        "href": "https://matrix.to/#/@alice:matrix.org",
        "scheme": "matrix",
        "service": "matrix",
        "capabilities": ["voice", "video", "text"],
        "preference": 10,
        "label": "Matrix",
    },
    {
        "uri": "sip:alice@sip.example.org",
        "href": "sip:alice@sip.example.org",
        "scheme": "sip",
        "service": "sip",
        "capabilities": ["voice", "video"],
        "preference": 20,
        "label": "Desk phone",
    },
]


@replica_reads
class ResolveApi(APIView):
    """Resolve any handle form to the entry that answers for it."""

    permission_classes = [AllowAny, LOOKUP]
    throttle_scope = "resolve"

    class InputSerializer(serializers.Serializer):
        handle = serializers.CharField(
            max_length=HANDLE_QUERY_MAX,
            help_text="Any handle form: `@alice`, `acct:alice@host`, `user@host`, "
            "`@user@host`, `@user:server`, a bare domain, an https profile URL, "
            "a `tel:` URI or `+E.164`.",
        )

        class Meta:
            ref_name = "ResolveQuery"

    class OutputSerializer(EntryCardSerializer, LogProofFields):
        matched = serializers.CharField(
            help_text="What answered: the directory handle (`@alice`) or a verified "
            "handle as `kind:value` (`fediverse:alice@mastodon.social`)."
        )

        class Meta:
            ref_name = "Resolution"

    @extend_schema(
        operation_id="resolve",
        summary="Resolve a handle",
        description="Finds the entry that answers for a handle: its directory handle, or "
        "an external handle it has *verified* (an unverified claim never answers). "
        "Returns the endpoints this caller may use, in preference order. A suspended "
        "entry and a missing one get the same 404. Rate-limited per client (scope "
        "`resolve`); the limit is for fairness, not security.",
        parameters=[InputSerializer, PROOF, RETRY_AFTER],
        responses={200: OutputSerializer, **problem_responses(400, 401, 403, 404, 429)},
        examples=[
            OpenApiExample(
                "Resolved through a verified fediverse handle",
                value={
                    "entry": _ALICE,
                    "matched": "fediverse:alice@mastodon.social",
                    "handles": _ALICE_HANDLES,
                    "endpoints": _ALICE_ENDPOINTS,
                },
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request: Request, version: str) -> Response:
        handle = _plain_query(request.query_params.get("handle"))
        if handle is None:  # missing or unusual: the serializer says what is wrong
            query = ResolveApi.InputSerializer(data=request.query_params)
            query.is_valid(raise_exception=True)
            handle = query.validated_data["handle"]
        with errors_on("handle"):
            answer = resolve_answer(handle, request.user)
            if answer is not None:
                return Response(with_proof(request, answer))
            entry, matched = entry_resolve(handle, caller=request.user)
        card = {**entry_card(entry, request.user), "matched": matched}
        return Response(with_proof(request, ResolveApi.OutputSerializer(card).data))


@replica_reads
class EntryDetailApi(APIView):
    """Read one entry by its directory handle."""

    permission_classes = [AllowAny, LOOKUP]

    @extend_schema(
        operation_id="entry_retrieve",
        summary="Read an entry",
        description="The entry with this directory handle, its handles and the endpoints "
        "this caller may use. A suspended entry and a missing one get the same 404.",
        parameters=[ENTRY_HANDLE, PROOF, RETRY_AFTER],
        responses={200: EntryAnswerSerializer, **problem_responses(400, 401, 403, 404, 429)},
        examples=[
            OpenApiExample(
                "An entry",
                value={"entry": _ALICE, "handles": _ALICE_HANDLES, "endpoints": _ALICE_ENDPOINTS},
                response_only=True,
                status_codes=["200"],
            )
        ],
    )
    def get(self, request: Request, version: str, handle: str) -> Response:
        answer = entry_answer(handle, request.user)
        if answer is None:
            entry = entry_get_by_handle(handle, caller=request.user)
            answer = EntryCardSerializer(entry_card(entry, request.user)).data
        return Response(with_proof(request, answer))


class SearchResultSerializer(serializers.Serializer):
    handle = serializers.CharField(source="at_handle")
    nickname = serializers.CharField()
    url = serializers.URLField(source="profile_url")
    handles = serializers.SerializerMethodField(help_text="Verified handles only.")

    class Meta:
        ref_name = "SearchResult"

    @extend_schema_field(HandleSerializer(many=True))
    def get_handles(self, entry: Entry) -> list[dict]:
        verified = handles_for(entry, self.context["caller"], verified_only=True)
        return HandleSerializer([view.handle for view in verified], many=True).data


def _page_url(url: str, page: int) -> str:
    return replace_query_param(url, "page", page) if page > 1 else remove_query_param(url, "page")


@replica_reads
class SearchApi(APIView):
    """Search the directory by nickname or handle."""

    permission_classes = [AllowAny, LOOKUP]
    throttle_scope = "search"

    class InputSerializer(serializers.Serializer):
        q = serializers.CharField(
            max_length=QUERY_MAX_LENGTH,
            help_text="What to look for: a nickname or handle, typos tolerated.",
        )
        page = serializers.IntegerField(
            min_value=1,
            max_value=SEARCH_MAX_PAGE,
            default=1,
            help_text=f"Page number, 1 to {SEARCH_MAX_PAGE}.",
        )

        class Meta:
            ref_name = "SearchQuery"

    class OutputSerializer(serializers.Serializer):
        count = serializers.IntegerField(help_text="How many entries match in all.")
        next = serializers.URLField(allow_null=True, help_text="The next page, if any.")
        previous = serializers.URLField(allow_null=True, help_text="The previous page, if any.")
        results = SearchResultSerializer(many=True)

        class Meta:
            ref_name = "SearchPage"

    @extend_schema(
        operation_id="search",
        summary="Search the directory",
        description="Entries whose nickname or handles match `q`, typo-tolerant, "
        f"{settings.REST_FRAMEWORK['PAGE_SIZE']} per page. Only listed (discoverable) "
        "entries appear. Rate-limited per client (scope `search`); the limit is for "
        "fairness, not security.",
        parameters=[InputSerializer, PROOF, RETRY_AFTER],
        responses={200: OutputSerializer, **problem_responses(400, 401, 403, 404, 429)},
    )
    def get(self, request: Request, version: str) -> Response:
        query = SearchApi.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        page = query.validated_data["page"]
        size = settings.REST_FRAMEWORK["PAGE_SIZE"]
        with errors_on("q", WorldbookError):
            found = search_entries(
                query.validated_data["q"],
                caller=request.user,
                limit=size,
                offset=(page - 1) * size,
            )
        if page > 1 and not found.entries:
            raise NotFound("That page is past the last result.")
        url = request.build_absolute_uri()
        has_next = page < SEARCH_MAX_PAGE and page * size < found.total
        result_page = {
            "count": found.total,
            "next": _page_url(url, page + 1) if has_next else None,
            "previous": _page_url(url, page - 1) if page > 1 else None,
            "results": found.entries,
        }
        output = SearchApi.OutputSerializer(result_page, context={"caller": request.user})
        return Response(output.data)
