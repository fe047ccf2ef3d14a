"""REST operations on phone numbers: lookup, contact discovery, and the owner's numbers.

Lookups (``GET /api/v1/numbers/{e164}``) and discovery (``POST /api/v1/discover``) need
an authenticated caller: a signed-in person, or a calling app's OAuth2 token with the
``lookup`` scope. Both are throttled per client and per address (scopes ``numbers``,
``discover``) and counted against daily limits kept in the database. A number nobody
holds, a hidden forward and a forward the caller may not see answer the same bytes.
"""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.oauth import ENTRY_WRITE, LOOKUP, is_bearer_request
from accounts.throttling import RequestRateThrottle
from directory.api.lookup import errors_on
from directory.api.schema import ENTRY_HANDLE, RETRY_AFTER, problem_responses
from directory.api.serializers import RequestBodySerializer
from directory.exceptions import NormalizationError, NotFound
from directory.models import Endpoint
from directory.numbers import services
from directory.numbers.lookup import discover, quota_client
from directory.numbers.models import LinkedNumber, LookupQuota
from directory.numbers.selectors import number_lookup, numbers_for_owner
from directory.selectors import entry_get_for_owner


class LookupCaller(BasePermission):
    """A signed-in person, or a calling app with an OAuth2 token (scopes are checked by
    :data:`accounts.oauth.LOOKUP`)."""

    message = "Number lookups need a signed-in person or a calling app's token."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated) or is_bearer_request(request)


def _client(request: Request) -> str:
    app_id = request.auth.application_id if is_bearer_request(request) else None
    return quota_client(request.user, app_id)


class EntryLinkSerializer(serializers.Serializer):
    handle = serializers.CharField(source="at_handle")
    url = serializers.URLField(source="profile_url")

    class Meta:
        ref_name = "NumberForwardTarget"


class NumberLookupApi(APIView):
    """``GET /numbers/{e164}``: what became of a phone number."""

    permission_classes = [LookupCaller, LOOKUP]
    throttle_scope = "numbers"

    class InputSerializer(serializers.Serializer):
        since = serializers.DateField(
            required=False,
            help_text="YYYY-MM-DD: also answer whether the number was retired since then.",
        )

        class Meta:
            ref_name = "NumberLookupQuery"

    class OutputSerializer(serializers.Serializer):
        number = serializers.CharField(help_text="The number looked up, in E.164.")
        status = serializers.ChoiceField(choices=["moved", "retired", "unknown"])
        moved_to = EntryLinkSerializer(
            source="entry", allow_null=True, help_text="While forwarding: where to go now."
        )
        forward_until = serializers.DateTimeField(allow_null=True)
        retired_on = serializers.DateField(allow_null=True)
        retired_since = serializers.ChoiceField(
            choices=["yes", "no", "no_data"],
            allow_null=True,
            help_text="With `since`: retired on or after that date (`yes`), known and not "
            "retired since (`no`), or nothing known (`no_data`).",
        )

        class Meta:
            ref_name = "NumberLookup"

    @extend_schema(
        operation_id="number_lookup",
        summary="Look a phone number up",
        description="`moved` with the entry's handle while the number is in its forwarding "
        "window and the owner's policy lets this caller see it; `retired` with the date "
        "once it was purged; `unknown` otherwise. Unknown, hidden and not-allowed numbers "
        "get the same response. Needs a signed-in person or a token with scope `lookup`; "
        "throttled (scope `numbers`) and limited per day (`NUMBER_LOOKUPS_PER_DAY`).",
        parameters=[
            OpenApiParameter("e164", str, OpenApiParameter.PATH, description="`+15551234567`"),
            InputSerializer,
            RETRY_AFTER,
        ],
        responses={200: OutputSerializer, **problem_responses(400, 401, 403, 429)},
    )
    def get(self, request: Request, version: str, e164: str) -> Response:
        query = NumberLookupApi.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        with errors_on("e164", NormalizationError):
            number = services.read_number(e164)
        services.quota_take(
            client=_client(request),
            kind=LookupQuota.Kind.LOOKUP,
            items=1,
            limit=settings.NUMBER_LOOKUPS_PER_DAY,
        )
        answer = number_lookup(number, caller=request.user, since=query.validated_data.get("since"))
        return Response(NumberLookupApi.OutputSerializer(answer).data)


class DiscoverApi(APIView):
    """``POST /discover``: who among these numbers and handles moved where."""

    permission_classes = [LookupCaller, LOOKUP]
    throttle_scope = "discover"

    class InputSerializer(RequestBodySerializer):
        items = serializers.ListField(
            child=serializers.CharField(max_length=256),
            min_length=1,
            max_length=100,
            help_text="Up to 100 phone numbers (E.164, or national with `region`) or handles.",
        )
        region = serializers.CharField(
            required=False, max_length=2, help_text="ISO 3166-1 alpha-2, for national numbers."
        )

        class Meta:
            ref_name = "Discover"

    class ItemSerializer(serializers.Serializer):
        query = serializers.CharField()
        status = serializers.ChoiceField(choices=["moved", "found", "unknown", "invalid"])
        entry = EntryLinkSerializer(allow_null=True)

        class Meta:
            ref_name = "DiscoveredItem"

    @extend_schema(
        operation_id="discover",
        summary="Contact discovery",
        description="For each item: `moved` (a number in its forwarding window whose forward "
        "this caller may see), `found` (a handle that resolves), `unknown` (anything else, "
        "hidden or not), `invalid` (not a number). Limited per account per day "
        "(`NUMBER_DISCOVER_PER_DAY` items) and throttled (scope `discover`).",
        request=InputSerializer,
        responses={200: ItemSerializer(many=True), **problem_responses(400, 401, 403, 429)},
    )
    def post(self, request: Request, version: str) -> Response:
        given = DiscoverApi.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with errors_on("region", NormalizationError):
            region = given.validated_data.get("region")
            if region and region.upper() not in phonenumbers.SUPPORTED_REGIONS:
                raise NormalizationError(f"{region!r} is not a region code (ISO 3166-1 alpha-2).")
        found = discover(
            given.validated_data["items"],
            caller=request.user,
            client=_client(request),
            region=region,
        )
        return Response(DiscoverApi.ItemSerializer(found, many=True).data)


# --------------------------------------------------------------------------------------
# The owner's numbers


class OwnerNumberSerializer(serializers.ModelSerializer):
    number = serializers.CharField(source="masked", read_only=True)

    class Meta:
        model = LinkedNumber
        ref_name = "OwnerNumber"
        fields = [
            "id", "number", "state", "forward_audience", "linked_at", "retiring_at",
            "forward_until", "retired_at", "end_reason",
        ]  # fmt: skip
        read_only_fields = fields


def _owned_number(entry, number_id: int) -> LinkedNumber:
    linked = LinkedNumber.objects.filter(entry=entry, pk=number_id).select_related("entry").first()
    if linked is None:
        raise NotFound("This entry has no such number.")
    return linked


class NumbersApi(APIView):
    """``/entries/{handle}/numbers``: list the entry's numbers; send a proof code.

    Sending is throttled (scope ``number_send``, shared with the owner's page); listing
    is not."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]
    throttle_scope = "number_send"

    def get_throttles(self):
        """The general rates for every method; the ``number_send`` rates for POST only."""
        throttles = super().get_throttles()
        if self.request.method in ("GET", "HEAD", "OPTIONS"):
            for throttle in throttles:
                if isinstance(throttle, RequestRateThrottle):
                    throttle.scoped = False
        return throttles

    class SendSerializer(RequestBodySerializer):
        number = serializers.CharField(max_length=64)
        region = serializers.CharField(required=False, max_length=2)

        class Meta:
            ref_name = "NumberCode"

    @extend_schema(
        operation_id="entry_numbers_list",
        summary="List the entry's numbers",
        parameters=[ENTRY_HANDLE],
        responses={200: OwnerNumberSerializer(many=True), **problem_responses(401, 403, 404)},
    )
    def get(self, request: Request, version: str, handle: str) -> Response:
        entry = entry_get_for_owner(handle, user=request.user, require_active=False)
        return Response(OwnerNumberSerializer(numbers_for_owner(entry), many=True).data)

    @extend_schema(
        operation_id="entry_numbers_send_code",
        summary="Send a proof code to a number",
        description="Texts a one-time code to the number. Limited per number, per account "
        "and per country calling code (toll fraud, `NUMBER_SENDS_PER_*`) and throttled "
        "(scope `number_send`); answers 202, or 503 when the SMS gateway fails.",
        parameters=[ENTRY_HANDLE, RETRY_AFTER],
        request=SendSerializer,
        responses={202: None, **problem_responses(400, 401, 403, 404, 409, 429)},
    )
    def post(self, request: Request, version: str, handle: str) -> Response:
        entry = entry_get_for_owner(handle, user=request.user)
        given = NumbersApi.SendSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with errors_on("number", NormalizationError):
            services.number_send_code(
                entry=entry,
                raw=given.validated_data["number"],
                region=given.validated_data.get("region"),
                request=request,
            )
        return Response({"detail": "A code was sent."}, status=status.HTTP_202_ACCEPTED)


class NumberVerifyApi(APIView):
    """``POST /entries/{handle}/numbers/verify``: prove a number with its code."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    class InputSerializer(RequestBodySerializer):
        number = serializers.CharField(max_length=64)
        code = serializers.CharField(max_length=16)
        region = serializers.CharField(required=False, max_length=2)

        class Meta:
            ref_name = "NumberVerify"

    @extend_schema(
        operation_id="entry_numbers_verify",
        summary="Link a number with its code",
        description="A recycled number (bound to another entry) ends the old binding at once.",
        parameters=[ENTRY_HANDLE],
        request=InputSerializer,
        responses={201: OwnerNumberSerializer, **problem_responses(400, 401, 403, 404, 429)},
    )
    def post(self, request: Request, version: str, handle: str) -> Response:
        entry = entry_get_for_owner(handle, user=request.user)
        given = NumberVerifyApi.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with errors_on("number", NormalizationError):
            linked = services.number_verify(
                entry=entry,
                raw=given.validated_data["number"],
                code=given.validated_data["code"],
                region=given.validated_data.get("region"),
                request=request,
            )
        return Response(OwnerNumberSerializer(linked).data, status=status.HTTP_201_CREATED)


class NumberApi(APIView):
    """``PATCH /entries/{handle}/numbers/{id}``: change who sees the forward."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    class InputSerializer(RequestBodySerializer):
        forward_audience = serializers.ChoiceField(choices=Endpoint.Audience.choices)

        class Meta:
            ref_name = "NumberUpdate"

    @extend_schema(
        operation_id="entry_numbers_update",
        summary="Choose who sees the forward",
        parameters=[ENTRY_HANDLE],
        request=InputSerializer,
        responses={200: OwnerNumberSerializer, **problem_responses(400, 401, 403, 404, 409)},
    )
    def patch(self, request: Request, version: str, handle: str, number_id: int) -> Response:
        entry = entry_get_for_owner(handle, user=request.user)
        linked = _owned_number(entry, number_id)
        given = NumberApi.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        linked = services.number_set_forward_audience(
            linked=linked, audience=given.validated_data["forward_audience"], request=request
        )
        return Response(OwnerNumberSerializer(linked).data)


class NumberRetireApi(APIView):
    """``POST /entries/{handle}/numbers/{id}/retire``: start the forwarding window."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    class InputSerializer(RequestBodySerializer):
        days = serializers.IntegerField(required=False, min_value=1)
        forward_audience = serializers.ChoiceField(
            choices=Endpoint.Audience.choices, required=False
        )

        class Meta:
            ref_name = "NumberRetire"

        def validate_days(self, days: int) -> int:
            """Refuse a window longer than ``NUMBER_FORWARD_MAX_DAYS``."""
            if days > settings.NUMBER_FORWARD_MAX_DAYS:
                raise serializers.ValidationError(
                    f"The forwarding window is 1 to {settings.NUMBER_FORWARD_MAX_DAYS} days."
                )
            return days

    @extend_schema(
        operation_id="entry_numbers_retire",
        summary="Retire a number",
        description="`active → retiring`: lookups forward to the entry's handle for `days` "
        "(default 90), then the number is purged.",
        parameters=[ENTRY_HANDLE],
        request=InputSerializer,
        responses={200: OwnerNumberSerializer, **problem_responses(400, 401, 403, 404, 409)},
    )
    def post(self, request: Request, version: str, handle: str, number_id: int) -> Response:
        entry = entry_get_for_owner(handle, user=request.user)
        linked = _owned_number(entry, number_id)
        given = NumberRetireApi.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        with errors_on("days", NormalizationError):
            linked = services.number_retire_start(
                linked=linked,
                days=given.validated_data.get("days"),
                audience=given.validated_data.get("forward_audience"),
                request=request,
            )
        return Response(OwnerNumberSerializer(linked).data)
