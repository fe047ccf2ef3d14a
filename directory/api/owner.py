"""Owner operations: an account manages its own entries, handles and endpoints.

Every operation needs a signed-in caller (Basic or session authentication, or an OAuth2
token acting for the person with the ``entry:write`` scope) and starts
from :func:`directory.selectors.entry_get_for_owner`, which refuses everyone but the
owner: a missing entry, and a suspended one the caller does not own, answer 404 alike;
a visible entry owned by someone else answers 403, since its existence is public.
Writes go through :mod:`directory.services`, so each is atomic and reaches the search
index after it commits.
"""

from __future__ import annotations

import phonenumbers
from django.db import transaction
from django.urls import reverse
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.contact_policy import policy_update
from accounts.oauth import ENTRY_WRITE
from directory.api.lookup import errors_on
from directory.api.schema import ENTRY_HANDLE, LOCATION, problem_responses
from directory.api.serializers import (
    OwnerEndpointSerializer,
    OwnerEntrySerializer,
    OwnerHandleSerializer,
    RequestBodySerializer,
)
from directory.exceptions import HandleTaken, NormalizationError, NotFound
from directory.models import Endpoint, Entry, Handle
from directory.normalization import (
    DIRECTORY_HANDLE_MAX,
    HandleKind,
    clean_display,
    normalize_directory_handle,
    normalize_endpoint_uri,
    normalize_handle,
    skeleton,
)
from directory.selectors import entry_get_for_owner
from directory.services import (
    CAPABILITIES,
    NICKNAME_MAX,
    endpoint_add,
    endpoint_remove,
    endpoint_update,
    entry_create,
    entry_delete,
    entry_update,
    handle_add,
    handle_remove,
)

HANDLE_ID = OpenApiParameter(
    "handle_id", int, OpenApiParameter.PATH, description="The claim's `id`."
)
ENDPOINT_ID = OpenApiParameter(
    "endpoint_id", int, OpenApiParameter.PATH, description="The endpoint's `id`."
)
OWNER_PROBLEMS = (400, 401, 403, 404)
# Entry fields that are part of the contact policy: changed through policy_update.
POLICY_FIELDS = ("discoverable", "findable_by_number")


def _normalized(field: str, call, *args, **kwargs):
    """Run a normalization function; turn its error into an error on ``field``."""
    try:
        return call(*args, **kwargs)
    except NormalizationError as exc:
        raise serializers.ValidationError({field: [exc.detail]}) from None


def _fits(field: str, value: str, model, column: str) -> None:
    """Refuse a normalized value longer than its column, which the database would
    refuse with an error instead of a message."""
    if len(value) > model._meta.get_field(column).max_length:
        raise serializers.ValidationError({field: ["Too long once normalized."]})


def _entry_location(request: Request, entry: Entry) -> str:
    return request.build_absolute_uri(
        reverse("api:entry", kwargs={"version": request.version, "handle": entry.handle_canonical})
    )


class NicknameField(serializers.CharField):
    """A nickname: at least one visible character and at most ``NICKNAME_MAX`` once
    cleaned (NFKC can lengthen a string, so the cleaned length is what counts)."""

    def __init__(self, **kwargs):
        super().__init__(max_length=NICKNAME_MAX, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        shown = clean_display(value)
        if not shown:
            raise serializers.ValidationError("A nickname needs at least one visible character.")
        if len(shown) > NICKNAME_MAX:
            raise serializers.ValidationError(
                f"A nickname has at most {NICKNAME_MAX} characters once normalized (NFKC)."
            )
        return value


class DirectoryHandleField(serializers.CharField):
    """A directory handle, checked by :func:`normalize_directory_handle`."""

    def __init__(self, **kwargs):
        # Room for invisible characters that cleaning drops; the 30-character rule is
        # applied to what remains.
        super().__init__(max_length=4 * DIRECTORY_HANDLE_MAX, **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        try:
            normalize_directory_handle(value)
        except NormalizationError as exc:
            raise serializers.ValidationError(exc.detail) from None
        return value


class EntryCreateApi(APIView):
    """Create an entry owned by the caller."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    class InputSerializer(RequestBodySerializer):
        nickname = NicknameField(help_text="The display name people search for.")
        handle = DirectoryHandleField(
            help_text="The directory handle, with or without the @: 2–30 letters or "
            "digits of any script, plus `.`, `_`, `-` inside."
        )
        discoverable = serializers.BooleanField(
            default=True, help_text="Listed in search results (default true)."
        )

        class Meta:
            ref_name = "EntryCreate"

    @extend_schema(
        operation_id="entry_create",
        summary="Create an entry",
        description="Creates an entry owned by the caller. A handle equal to a taken one, "
        "case-insensitively, or one that looks like it (UTS #39 confusable skeleton: "
        "`eIonmusk` beside `elonmusk`) is refused with 409.",
        request=InputSerializer,
        parameters=[LOCATION],
        responses={201: OwnerEntrySerializer, **problem_responses(400, 401, 409)},
        examples=[
            OpenApiExample(
                "A new entry",
                value={"nickname": "Alice Liddell", "handle": "alice", "discoverable": True},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, version: str) -> Response:
        given = EntryCreateApi.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with errors_on("handle", HandleTaken):
            entry = entry_create(owner=request.user, **given.validated_data)
        return Response(
            OwnerEntrySerializer(entry).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": _entry_location(request, entry)},
        )


class EntryUpdateApi(APIView):
    """Change the caller's entry."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    class InputSerializer(RequestBodySerializer):
        nickname = NicknameField(required=False)
        handle = DirectoryHandleField(
            required=False, help_text="A new directory handle; the old one is released."
        )
        discoverable = serializers.BooleanField(
            required=False, help_text="Listed in search results."
        )
        findable_by_number = serializers.BooleanField(
            required=False,
            help_text="Found by a lookup of a phone number the entry holds as a verified "
            "WhatsApp or Signal handle (or has retired). When false, such a lookup "
            "answers 404 as for a number nobody holds.",
        )

        class Meta:
            ref_name = "EntryUpdate"

    @extend_schema(
        operation_id="entry_update",
        summary="Change an entry",
        description="Changes the given fields only. Owner only: 403 for someone else's "
        "visible entry, 404 for a missing one or a suspended one the caller does not own. "
        "A change to `discoverable` or `findable_by_number` is recorded as a "
        "`policy_changed` audit event.",
        parameters=[ENTRY_HANDLE],
        request=InputSerializer,
        responses={200: OwnerEntrySerializer, **problem_responses(*OWNER_PROBLEMS, 409)},
    )
    def patch(self, request: Request, version: str, handle: str) -> Response:
        entry = entry_get_for_owner(handle, user=request.user)
        given = EntryUpdateApi.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        fields = dict(given.validated_data)
        policy = {k: fields.pop(k) for k in POLICY_FIELDS if k in fields}
        with transaction.atomic(), errors_on("handle", HandleTaken):
            entry = entry_update(entry=entry, **fields)
            policy_update(entry=entry, user=request.user, request=request, **policy)
        return Response(OwnerEntrySerializer(entry).data)


class EntryDeleteApi(APIView):
    """Delete the caller's entry."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    @extend_schema(
        operation_id="entry_destroy",
        summary="Delete an entry",
        description="Deletes the entry with its handles and endpoints. A suspended entry "
        "cannot be deleted (409): its owner may appeal the suspension instead.",
        parameters=[ENTRY_HANDLE],
        responses={204: None, **problem_responses(401, 403, 404, 409)},
    )
    def delete(self, request: Request, version: str, handle: str) -> Response:
        entry = entry_get_for_owner(handle, user=request.user, require_active=False)
        entry_delete(entry=entry)
        return Response(status=status.HTTP_204_NO_CONTENT)


class HandleListApi(APIView):
    """The handles the caller's entry claims, in every verification state."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    @extend_schema(
        operation_id="entry_handles_list",
        summary="List an entry's handles",
        parameters=[ENTRY_HANDLE],
        responses={200: OwnerHandleSerializer(many=True), **problem_responses(401, 403, 404)},
    )
    def get(self, request: Request, version: str, handle: str) -> Response:
        entry = entry_get_for_owner(handle, user=request.user, require_active=False)
        return Response(OwnerHandleSerializer(entry.handles.all(), many=True).data)


class HandleAddApi(APIView):
    """Claim an external handle for the caller's entry."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    class InputSerializer(RequestBodySerializer):
        kind = serializers.ChoiceField(
            choices=HandleKind.CHOICES,
            error_messages={
                "invalid_choice": '"{input}" is not a handle kind; use one of: '
                + ", ".join(HandleKind.ALL)
                + "."
            },
        )
        value = serializers.CharField(
            max_length=Handle._meta.get_field("raw").max_length,
            help_text="The handle as written on its platform (`@alice@mastodon.social`, "
            "`alice@example.org`, `@alice:matrix.org`, `bücher.example` …).",
        )

        class Meta:
            ref_name = "HandleClaim"

        def validate(self, data):
            normal = _normalized("value", normalize_handle, data["kind"], data["value"])
            _fits("value", normal.canonical, Handle, "canonical")
            _fits("value", skeleton(normal.canonical), Handle, "skeleton")
            return data

    @extend_schema(
        operation_id="entry_handles_create",
        summary="Claim a handle",
        description="Adds a handle in the `unverified` state; it answers lookups only "
        "once verified. Claiming a handle the entry already claims returns that claim.",
        parameters=[ENTRY_HANDLE],
        request=InputSerializer,
        responses={201: OwnerHandleSerializer, **problem_responses(*OWNER_PROBLEMS, 409)},
        examples=[
            OpenApiExample(
                "A fediverse account",
                value={"kind": "fediverse", "value": "@alice@mastodon.social"},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, version: str, handle: str) -> Response:
        entry = entry_get_for_owner(handle, user=request.user)
        given = HandleAddApi.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with errors_on("value"):
            claim = handle_add(
                entry=entry, kind=given.validated_data["kind"], raw=given.validated_data["value"]
            )
        return Response(OwnerHandleSerializer(claim).data, status=status.HTTP_201_CREATED)


class HandleRemoveApi(APIView):
    """Drop a handle the caller's entry claims."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    @extend_schema(
        operation_id="entry_handles_destroy",
        summary="Drop a handle",
        parameters=[ENTRY_HANDLE, HANDLE_ID],
        responses={204: None, **problem_responses(401, 403, 404)},
    )
    def delete(self, request: Request, version: str, handle: str, handle_id: int) -> Response:
        entry = entry_get_for_owner(handle, user=request.user)
        claim = next((h for h in entry.handles.all() if h.pk == handle_id), None)
        if claim is None:
            raise NotFound("This entry claims no handle with that id.")
        handle_remove(handle=claim)
        return Response(status=status.HTTP_204_NO_CONTENT)


class EndpointListApi(APIView):
    """The caller's entry's endpoints, whoever their audience."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    @extend_schema(
        operation_id="entry_endpoints_list",
        summary="List an entry's endpoints",
        parameters=[ENTRY_HANDLE],
        responses={200: OwnerEndpointSerializer(many=True), **problem_responses(401, 403, 404)},
    )
    def get(self, request: Request, version: str, handle: str) -> Response:
        entry = entry_get_for_owner(handle, user=request.user, require_active=False)
        return Response(OwnerEndpointSerializer(entry.endpoints.all(), many=True).data)


class EndpointSettingsSerializer(RequestBodySerializer):
    """The settings of an endpoint its owner chooses; the defaults apply on creation
    only (DRF skips defaults in partial updates)."""

    audience = serializers.ChoiceField(
        choices=Endpoint.Audience.choices,
        default=Endpoint.Audience.EVERYONE,
        help_text="Who may see and use it: everyone, signed_in, verified (callers whose "
        "own entry has a verified handle), contacts, nobody (only the owner).",
    )
    preference = serializers.IntegerField(
        min_value=0, max_value=32767, default=100, help_text="Lower comes first."
    )
    label = serializers.CharField(max_length=64, allow_blank=True, default="")
    capabilities = serializers.ListField(
        child=serializers.ChoiceField(choices=CAPABILITIES),
        allow_empty=False,
        required=False,
        help_text="A subset of voice, video, text; on creation, what the scheme offers "
        "when left out.",
    )


class EndpointAddApi(APIView):
    """Add an endpoint to the caller's entry."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    class InputSerializer(EndpointSettingsSerializer):
        uri = serializers.CharField(
            max_length=Endpoint._meta.get_field("uri").max_length,
            help_text="`sip:`, `sips:`, `xmpp:`, `matrix:` or matrix.to, `mailto:`, "
            "`tel:` (RFC 3966), `facetime:`, or an https call link.",
        )
        region = serializers.CharField(
            required=False,
            min_length=2,
            max_length=2,
            help_text="ISO 3166-1 alpha-2 region to read a national `tel:` number in.",
        )

        class Meta:
            ref_name = "EndpointCreate"

        def validate_region(self, value: str) -> str:
            region = value.upper()
            if region not in phonenumbers.SUPPORTED_REGIONS:
                raise serializers.ValidationError(f"{value!r} is not a region code.")
            return region

        def validate(self, data):
            region = data.get("region")
            normal = _normalized("uri", normalize_endpoint_uri, data["uri"], region=region)
            _fits("uri", normal.uri, Endpoint, "uri")
            return data

    @extend_schema(
        operation_id="entry_endpoints_create",
        summary="Add an endpoint",
        description="Adds an endpoint, or updates the one with the same normalized URI. "
        "Capabilities default to what the scheme offers.",
        parameters=[ENTRY_HANDLE],
        request=InputSerializer,
        responses={201: OwnerEndpointSerializer, **problem_responses(*OWNER_PROBLEMS)},
        examples=[
            OpenApiExample(
                "A SIP address for signed-in callers",
                value={
                    "uri": "sip:alice@sip.example.org",
                    "audience": "signed_in",
                    "preference": 20,
                    "label": "Desk phone",
                    "capabilities": ["voice"],
                },
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, version: str, handle: str) -> Response:
        entry = entry_get_for_owner(handle, user=request.user)
        given = EndpointAddApi.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with errors_on("uri"):
            endpoint = endpoint_add(entry=entry, **given.validated_data)
        return Response(OwnerEndpointSerializer(endpoint).data, status=status.HTTP_201_CREATED)


def _owned_endpoint(entry: Entry, endpoint_id: int) -> Endpoint:
    endpoint = next((e for e in entry.endpoints.all() if e.pk == endpoint_id), None)
    if endpoint is None:
        raise NotFound("This entry has no endpoint with that id.")
    return endpoint


class EndpointUpdateApi(APIView):
    """Change an endpoint's audience, preference, label or capabilities."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    class InputSerializer(EndpointSettingsSerializer):
        class Meta:
            ref_name = "EndpointUpdate"

    @extend_schema(
        operation_id="entry_endpoints_partial_update",
        summary="Change an endpoint",
        description="Changes the given settings only. To change the URI, add the new "
        "endpoint and delete the old one. A change of `audience` is recorded as a "
        "`policy_changed` audit event.",
        parameters=[ENTRY_HANDLE, ENDPOINT_ID],
        request=InputSerializer,
        responses={200: OwnerEndpointSerializer, **problem_responses(*OWNER_PROBLEMS)},
    )
    def patch(self, request: Request, version: str, handle: str, endpoint_id: int) -> Response:
        entry = entry_get_for_owner(handle, user=request.user)
        endpoint = _owned_endpoint(entry, endpoint_id)
        given = EndpointUpdateApi.InputSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        fields = dict(given.validated_data)
        with transaction.atomic():
            if "audience" in fields:
                policy_update(
                    entry=entry,
                    user=request.user,
                    request=request,
                    audiences={endpoint.pk: fields.pop("audience")},
                )
            endpoint = endpoint_update(endpoint=endpoint, **fields)
        return Response(OwnerEndpointSerializer(endpoint).data)


class EndpointRemoveApi(APIView):
    """Delete an endpoint of the caller's entry."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    @extend_schema(
        operation_id="entry_endpoints_destroy",
        summary="Delete an endpoint",
        parameters=[ENTRY_HANDLE, ENDPOINT_ID],
        responses={204: None, **problem_responses(401, 403, 404)},
    )
    def delete(self, request: Request, version: str, handle: str, endpoint_id: int) -> Response:
        entry = entry_get_for_owner(handle, user=request.user)
        endpoint_remove(endpoint=_owned_endpoint(entry, endpoint_id))
        return Response(status=status.HTTP_204_NO_CONTENT)
