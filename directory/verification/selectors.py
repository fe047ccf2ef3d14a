"""Reads of the verification pipeline: where a handle stands, in plain words."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

from directory.models import Handle
from directory.verification.models import Method, VerificationChallenge, VerificationCheck
from directory.verification.verifiers import METHOD_FOR_KIND, verifier_for


@dataclass
class VerificationState:
    """Where the proof of one handle stands.

    ``summary`` says it in one plain sentence; ``instructions`` what to publish (or where
    the code went); ``last_check`` the newest check (or ``None``).
    """

    handle: Handle
    method: str | None
    challenge: VerificationChallenge | None
    last_check: VerificationCheck | None
    summary: str
    instructions: str

    @property
    def token(self) -> str:
        # A code is never shown; rel="me" proofs link to the entry and need no token.
        if self.challenge is None or self.challenge.method in (
            Method.EMAIL_CODE, Method.REL_ME, Method.FEDIVERSE,
        ):  # fmt: skip
            return ""
        return self.challenge.token


def instructions_for(handle: Handle, challenge: VerificationChallenge | None) -> str:
    """What the owner must do next for ``challenge``, in plain words."""
    if challenge is None:
        return "Start a verification to get a token to publish."
    if challenge.method == Method.EMAIL_CODE:
        return f"Enter the code we emailed to {handle.canonical}."
    return verifier_for(challenge.method).instructions(handle, challenge)


def verification_state(handle: Handle) -> VerificationState:
    """Return the :class:`VerificationState` of ``handle`` (two queries)."""
    challenge = handle.verification_challenges.order_by("-created_at", "-id").first()
    last = handle.verification_checks.order_by("-created_at", "-id").first()
    status = handle.status
    when = (
        timezone.localtime(handle.checked_at).strftime("%Y-%m-%d %H:%M %Z")
        if (handle.checked_at)
        else ""
    )
    if METHOD_FOR_KIND.get(handle.kind) is None:
        summary = f"Worldbook cannot prove a {handle.get_kind_display()} yet."
    elif status == Handle.Status.VERIFIED:
        summary = f"Verified; proof last seen {when}."
    elif status == Handle.Status.STALE:
        summary = (
            "Stale: the platform has not answered for a while, so the proof is old "
            f"(last checked {when})."
        )
    elif status == Handle.Status.REVOKED:
        summary = "Revoked: " + (last.reason if last else "a moderator withdrew the verification.")
    elif last is not None and status in (Handle.Status.FAILED, Handle.Status.UNREACHABLE,
                                         Handle.Status.PENDING):  # fmt: skip
        prefix = {
            Handle.Status.FAILED: "Not verified: ",
            Handle.Status.UNREACHABLE: "Could not reach the platform: ",
            Handle.Status.PENDING: "Waiting: ",
        }[status]
        summary = prefix + last.reason
    elif status == Handle.Status.PENDING:
        summary = "Waiting for your proof."
    else:
        summary = "Not verified yet."
    return VerificationState(
        handle=handle,
        method=challenge.method if challenge else METHOD_FOR_KIND.get(handle.kind),
        challenge=challenge,
        last_check=last,
        summary=summary,
        instructions=instructions_for(handle, challenge),
    )
