"""Data-rights API: ``GET /api/v1/me/export``, ``GET /api/v1/me/export.vcf``,
``DELETE /api/v1/me``.

Only the person themself may call these, signed in with their password (HTTP Basic or a
session); an OAuth2 bearer token an app holds for them is not accepted (401), whatever its
scopes: handing over all of someone's data, or erasing them, is not an app's to do.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import PasswordOnlyBasicAuthentication
from accounts.data_rights import (
    PasswordTriesExhausted,
    account_delete,
    account_export,
    account_export_vcard,
)
from accounts.data_views import export_filename, forget_session
from directory.api.schema import problem_responses
from directory.exceptions import problem, problem_response
from directory.vcard_export import VCARD_CONTENT_TYPE

# Password-backed sign-in only: a bearer token an app holds is not looked at here.
PERSON_AUTHENTICATION = [PasswordOnlyBasicAuthentication, SessionAuthentication]


class MeExportApi(APIView):
    """Everything Worldbook holds about the caller, as JSON."""

    authentication_classes = PERSON_AUTHENTICATION
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_export",
        summary="Export my data (JSON)",
        description="Everything Worldbook holds about the signed-in person, in the "
        "`worldbook.export` format version 1 (see `accounts.data_rights.account_export`): "
        "account, entries with handles in every status and endpoints of every audience, "
        "contacts saved (and how many saved them), second factors, audit events, OAuth2 "
        "apps and grants. No secrets, nothing of other people. Records an audit event.",
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The export document."),
            **problem_responses(401, 403),
        },
    )
    def get(self, request: Request, version: str) -> Response:
        export = account_export(user=request.user, request=request)
        return Response(
            export,
            headers={
                "Content-Disposition": content_disposition_header(
                    True, export_filename(request.user, "json")
                )
            },
        )


class MeExportVcardApi(APIView):
    """The caller's entries as vCard 4.0."""

    authentication_classes = PERSON_AUTHENTICATION
    permission_classes = [IsAuthenticated]

    @extend_schema(
        operation_id="me_export_vcard",
        summary="Export my entries (vCard)",
        description="The signed-in person's entries as vCard 4.0 (RFC 6350), the owner's "
        "view: every endpoint, whatever its audience. Records an audit event.",
        responses={
            (200, "text/vcard"): OpenApiResponse(OpenApiTypes.STR, description="vCards."),
            **problem_responses(401, 403),
        },
    )
    def get(self, request: Request, version: str) -> HttpResponse:
        response = HttpResponse(
            account_export_vcard(user=request.user, request=request),
            content_type=VCARD_CONTENT_TYPE,
        )
        response["Content-Disposition"] = content_disposition_header(
            True, export_filename(request.user, "vcf")
        )
        return response


class MeApi(APIView):
    """The caller's account."""

    authentication_classes = PERSON_AUTHENTICATION
    permission_classes = [IsAuthenticated]

    class InputSerializer(serializers.Serializer):
        password = serializers.CharField(
            trim_whitespace=False,
            style={"input_type": "password"},
            help_text="The account's current password, to confirm the deletion.",
        )

        class Meta:
            ref_name = "AccountDeleteInput"

    @extend_schema(
        operation_id="me_destroy",
        summary="Delete my account",
        description="Deletes the account in one transaction: entries, handles, endpoints, "
        "contacts in both directions, second factors, OAuth2 apps and tokens, sessions. "
        "Audit events about the person keep only action and time. The search index drops "
        "the entries after commit. A wrong password answers 403 `password-not-confirmed` "
        "and counts toward the sign-in lock; once it holds, 429 with `Retry-After`.",
        request=InputSerializer,
        responses={204: None, **problem_responses(400, 401, 403, 429)},
    )
    def delete(self, request: Request, version: str) -> Response:
        given = MeApi.InputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        try:
            account_delete(
                user=request.user, password=given.validated_data["password"], request=request
            )
        except PasswordTriesExhausted as exc:
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
            return problem_response(
                problem(exc.status, exc.title, exc.detail, exc.slug), headers, request=request
            )
        forget_session(request._request)
        return Response(status=status.HTTP_204_NO_CONTENT)
