"""``POST /api/v1/reports``: a signed-in person reports an entry, a handle or an endpoint."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.oauth import SCOPE_ENTRY_WRITE, SCOPE_LOOKUP, TokenHasScopeOrSession
from directory.api.schema import problem_responses
from directory.api.serializers import RequestBodySerializer
from directory.exceptions import NormalizationError, NotFound
from directory.moderation.models import Report
from directory.moderation.services import REASON_MAX, report_file
from directory.normalization import HandleKind, normalize_endpoint_uri, normalize_handle
from directory.policy import visible_endpoints
from directory.selectors import entry_get_by_handle


@extend_schema_field({"$ref": "#/components/schemas/KindEnum"})
class HandleKindField(serializers.CharField):
    """A handle kind (:data:`directory.normalization.HandleKind.ALL`), described in the
    schema by the owner API's ``KindEnum``."""


class ReportApi(APIView):
    """File a report about an entry, or one of its handles or endpoints.

    Reports about the same thing are grouped into one case for the moderators. Limited
    to ``MODERATION_REPORTS_PER_DAY`` reports per account in 24 hours (kept in the
    database) and to the ``report`` throttle rate.
    """

    permission_classes = [
        IsAuthenticated,
        TokenHasScopeOrSession([SCOPE_LOOKUP], write_scopes=[SCOPE_ENTRY_WRITE]),
    ]
    throttle_scope = "report"

    class InputSerializer(RequestBodySerializer):
        entry = serializers.CharField(max_length=200, help_text="Directory handle: `@alice`.")
        # A CharField, not a ChoiceField: the schema names the handle-kind choice set
        # once, after the owner API's "kind" (its enum is stated with that name).
        handle_kind = HandleKindField(
            max_length=16,
            required=False,
            help_text=f"With `handle`: one of {', '.join(HandleKind.ALL)}.",
        )
        handle = serializers.CharField(
            max_length=512, required=False, help_text="One of the entry's external handles."
        )
        endpoint = serializers.CharField(
            max_length=2048, required=False, help_text="One of the entry's endpoint URIs."
        )
        category = serializers.ChoiceField(choices=Report.Category.choices)
        reason = serializers.CharField(max_length=REASON_MAX)

        class Meta:
            ref_name = "ReportCreate"

        def validate_handle_kind(self, value: str) -> str:
            if value not in HandleKind.ALL:
                raise serializers.ValidationError(f"{value!r} is not a handle kind.")
            return value

        def validate(self, data):
            if ("handle" in data) != ("handle_kind" in data):
                raise serializers.ValidationError(
                    {"handle": ["Give handle and handle_kind together."]}
                )
            if "handle" in data and "endpoint" in data:
                raise serializers.ValidationError(
                    {"endpoint": ["Report a handle or an endpoint, not both."]}
                )
            return data

    class OutputSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        case = serializers.IntegerField(source="case_id")
        category = serializers.CharField()
        created_at = serializers.DateTimeField()
        reports_in_case = serializers.IntegerField(source="case.report_count")

    @extend_schema(
        operation_id="report_create",
        request=InputSerializer,
        responses={201: OutputSerializer, **problem_responses(400, 401, 403, 404, 409, 429)},
        examples=[
            OpenApiExample(
                "An impersonation report",
                value={"entry": "@elonrnusk", "category": "impersonation", "reason": "Not him."},
                request_only=True,
            )
        ],
    )
    def post(self, request: Request, version: str) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        entry = entry_get_by_handle(values["entry"], caller=request.user)
        target = {}
        if "handle" in values:
            target["handle"] = _entry_handle(entry, values["handle_kind"], values["handle"])
        elif "endpoint" in values:
            target["endpoint"] = _entry_endpoint(entry, values["endpoint"], request.user)
        report = report_file(
            reporter=request.user,
            entry=entry,
            category=values["category"],
            reason=values["reason"],
            request=request._request,
            **target,
        )
        report.case.refresh_from_db(fields=["report_count"])
        return Response(self.OutputSerializer(report).data, status=status.HTTP_201_CREATED)


def _entry_handle(entry, kind: str, value: str):
    try:
        key = normalize_handle(kind, value).key
    except NormalizationError:
        raise NotFound("The entry claims no such handle.") from None
    for handle in entry.handles.all():
        if handle.kind == kind and handle.key == key:
            return handle
    raise NotFound("The entry claims no such handle.")


def _entry_endpoint(entry, uri: str, caller):
    try:
        wanted = normalize_endpoint_uri(uri).uri
    except NormalizationError:
        raise NotFound("The entry has no such endpoint.") from None
    for endpoint in visible_endpoints(entry, caller):
        if endpoint.uri == wanted:
            return endpoint
    raise NotFound("The entry has no such endpoint.")
