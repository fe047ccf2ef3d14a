"""Owner API for proving handles: start a proof, ask for a check, give an email code, read
the result in plain words and the evidence of each check.

Every operation starts from :func:`directory.selectors.entry_get_for_owner` (404 for a
missing or hidden entry, 403 for someone else's) and is rate-limited per client by the
``verify`` throttle scope (``THROTTLE_VERIFY``), since each one makes Worldbook fetch,
query DNS or send mail. Wrong email codes are also counted in the database.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.oauth import ENTRY_WRITE
from directory.api.schema import ENTRY_HANDLE, problem_responses
from directory.api.serializers import RequestBodySerializer
from directory.exceptions import NotFound
from directory.models import Handle
from directory.selectors import entry_get_for_owner
from directory.verification.models import Method, VerificationCheck
from directory.verification.selectors import verification_state
from directory.verification.services import (
    verification_confirm_code,
    verification_request_check,
    verification_start,
)

HANDLE_ID = OpenApiParameter(
    "handle_id", int, OpenApiParameter.PATH, description="The claim's `id`."
)
PROBLEMS = (400, 401, 403, 404, 429)
CHECKS_SHOWN = 20


def owned_handle(request: Request, handle: str, handle_id: int, *, active: bool = True) -> Handle:
    """The claim ``handle_id`` of the caller's entry ``handle``; raises NotFound/Forbidden."""
    entry = entry_get_for_owner(handle, user=request.user, require_active=active)
    claim = next((h for h in entry.handles.all() if h.pk == handle_id), None)
    if claim is None:
        raise NotFound("This entry claims no handle with that id.")
    claim.entry = entry
    return claim


class CheckSerializer(serializers.Serializer):
    """One check of a handle's proof, with its evidence."""

    result = serializers.ChoiceField(choices=VerificationCheck.Result.choices)
    reason = serializers.CharField(help_text="What was found, in plain words.")
    trigger = serializers.ChoiceField(choices=VerificationCheck.Trigger.choices)
    method = serializers.ChoiceField(choices=Method.choices)
    status_after = serializers.CharField(help_text="The handle's status after this check.")
    evidence = serializers.JSONField(
        help_text="URLs fetched (status, address connected to, bytes, redirects), DNS "
        "values read, what was expected and found."
    )
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "VerificationCheck"


class StateSerializer(serializers.Serializer):
    """Where the proof of a handle stands."""

    status = serializers.CharField(source="handle.status")
    summary = serializers.CharField(help_text="The state in one plain sentence.")
    method = serializers.ChoiceField(choices=Method.choices, allow_null=True)
    token = serializers.CharField(
        allow_blank=True, help_text="What to publish (empty for an email code)."
    )
    instructions = serializers.CharField(help_text="What to do next, in plain words.")
    proof_url = serializers.SerializerMethodField()
    last_check = CheckSerializer(allow_null=True)

    class Meta:
        ref_name = "VerificationState"

    def get_proof_url(self, state) -> str:
        return state.challenge.proof_url if state.challenge else ""


class VerificationApi(APIView):
    """The verification of one claimed handle."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]
    throttle_scope = "verify"

    class StartSerializer(RequestBodySerializer):
        proof_url = serializers.CharField(
            required=False, allow_blank=True, max_length=2048,
            help_text="For X and Telegram: the public post holding the token.",
        )  # fmt: skip

        class Meta:
            ref_name = "VerificationStart"

    def get_throttles(self):
        # Reading the state costs nothing outside; only writes count against "verify".
        return [] if self.request.method in ("GET", "HEAD") else super().get_throttles()

    @extend_schema(
        operation_id="entry_handle_verification_read",
        summary="Read a handle's verification",
        parameters=[ENTRY_HANDLE, HANDLE_ID],
        responses={200: StateSerializer, **problem_responses(401, 403, 404)},
    )
    def get(self, request: Request, version: str, handle: str, handle_id: int) -> Response:
        claim = owned_handle(request, handle, handle_id, active=False)
        return Response(StateSerializer(verification_state(claim)).data)

    @extend_schema(
        operation_id="entry_handle_verification_start",
        summary="Start proving a handle",
        description="Makes a new token to publish (or emails a single-use code to an "
        "email address). The handle becomes `pending` unless it is verified already.",
        parameters=[ENTRY_HANDLE, HANDLE_ID],
        request=StartSerializer,
        responses={201: StateSerializer, **problem_responses(*PROBLEMS)},
    )
    def post(self, request: Request, version: str, handle: str, handle_id: int) -> Response:
        claim = owned_handle(request, handle, handle_id)
        given = self.StartSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        verification_start(handle=claim, proof_url=given.validated_data.get("proof_url", ""))
        claim.refresh_from_db()
        return Response(
            StateSerializer(verification_state(claim)).data, status=status.HTTP_201_CREATED
        )


class VerificationCheckApi(APIView):
    """Ask for a check of the proof now."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]
    throttle_scope = "verify"

    @extend_schema(
        operation_id="entry_handle_verification_check",
        summary="Check a proof now",
        description="Queues a check that reads DNS afresh (no cache). The result appears "
        "in the verification's `last_check` when done.",
        parameters=[ENTRY_HANDLE, HANDLE_ID],
        request=VerificationApi.StartSerializer,
        responses={202: StateSerializer, **problem_responses(*PROBLEMS)},
    )
    def post(self, request: Request, version: str, handle: str, handle_id: int) -> Response:
        claim = owned_handle(request, handle, handle_id)
        given = VerificationApi.StartSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        verification_request_check(
            handle=claim, proof_url=given.validated_data.get("proof_url", "")
        )
        claim.refresh_from_db()
        return Response(
            StateSerializer(verification_state(claim)).data, status=status.HTTP_202_ACCEPTED
        )


class VerificationCodeApi(APIView):
    """Prove an email address with the code sent to it."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]
    throttle_scope = "verify"

    class CodeSerializer(RequestBodySerializer):
        code = serializers.CharField(max_length=32)

        class Meta:
            ref_name = "VerificationCode"

    @extend_schema(
        operation_id="entry_handle_verification_code",
        summary="Give an email code",
        description="A code works once, expires, and allows five tries.",
        parameters=[ENTRY_HANDLE, HANDLE_ID],
        request=CodeSerializer,
        responses={200: StateSerializer, **problem_responses(*PROBLEMS)},
    )
    def post(self, request: Request, version: str, handle: str, handle_id: int) -> Response:
        claim = owned_handle(request, handle, handle_id)
        given = self.CodeSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        verification_confirm_code(handle=claim, code=given.validated_data["code"])
        claim.refresh_from_db()
        return Response(StateSerializer(verification_state(claim)).data)


class VerificationChecksApi(APIView):
    """The evidence of the newest checks of a handle."""

    permission_classes = [IsAuthenticated, ENTRY_WRITE]

    @extend_schema(
        operation_id="entry_handle_verification_checks",
        summary="List the evidence of a handle's checks",
        description=f"The newest {CHECKS_SHOWN} checks, newest first.",
        parameters=[ENTRY_HANDLE, HANDLE_ID],
        responses={200: CheckSerializer(many=True), **problem_responses(401, 403, 404)},
    )
    def get(self, request: Request, version: str, handle: str, handle_id: int) -> Response:
        claim = owned_handle(request, handle, handle_id, active=False)
        checks = claim.verification_checks.order_by("-created_at", "-id")[:CHECKS_SHOWN]
        return Response(CheckSerializer(checks, many=True).data)
