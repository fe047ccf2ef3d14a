"""Reads of the verification pipeline: where a handle stands, in plain words, and what its
owner does next, step by step."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from directory.models import Handle
from directory.verification.models import Method, VerificationChallenge, VerificationCheck
from directory.verification.verifiers import METHOD_FOR_KIND, Step, verifier_for

Status = Handle.Status
Result = VerificationCheck.Result

# The state of a handle as a person reads it (the badge on the proof pages).
STATUS_LABELS = {
    Status.UNVERIFIED: gettext_lazy("Not verified"),
    Status.PENDING: gettext_lazy("Pending"),
    Status.VERIFIED: gettext_lazy("Verified"),
    Status.STALE: gettext_lazy("Stale"),
    Status.UNREACHABLE: gettext_lazy("Unreachable"),
    Status.FAILED: gettext_lazy("Failed"),
    Status.REVOKED: gettext_lazy("Revoked"),
}
RESULT_LABELS = {
    Result.VERIFIED: gettext_lazy("Proof found"),
    Result.MISMATCH: gettext_lazy("Proof does not match"),
    Result.MISSING: gettext_lazy("No proof found"),
    Result.REFUSED: gettext_lazy("Could not read the proof"),
    Result.UNREACHABLE: gettext_lazy("The platform did not answer"),
    Result.CONTESTED: gettext_lazy("Proof found, but another entry holds this handle"),
}
METHOD_LABELS = {
    Method.EMAIL_CODE: gettext_lazy("a code sent to the address"),
    Method.DOMAIN: gettext_lazy("a DNS TXT record or a file on the domain"),
    Method.REL_ME: gettext_lazy('a rel="me" link on the website'),
    Method.FEDIVERSE: gettext_lazy("a link to your Worldbook page in your profile"),
    Method.ATPROTO: gettext_lazy("the token in your Bluesky profile"),
    Method.GITHUB: gettext_lazy("the token in your GitHub bio or a public gist"),
    Method.PROOF_URL: gettext_lazy("a public post holding the token"),
}


class Phase:
    """Where a proof stands, for the page: which forms it shows."""

    UNPROVABLE = "unprovable"  # no method: nothing to do
    UNSTARTED = "unstarted"  # no challenge yet: "Start"
    WAITING = "waiting"  # steps, "Check now" (or the code)
    VERIFIED = "verified"  # verified or stale: "Check again" only
    REVOKED = "revoked"  # why, and "Start over"


@dataclass
class VerificationState:
    """Where the proof of one handle stands.

    ``summary`` says it in one plain sentence; ``instructions`` what to publish (or where
    the code went) in one sentence, and ``steps`` the same step by step with the exact
    values to publish (:class:`~directory.verification.verifiers.Step`); ``last_check`` is
    the newest check (or ``None``); ``phase`` one of :class:`Phase`.
    """

    handle: Handle
    method: str | None
    challenge: VerificationChallenge | None
    last_check: VerificationCheck | None
    summary: str
    instructions: str
    steps: list[Step] = field(default_factory=list)
    phase: str = Phase.UNSTARTED

    @property
    def token(self) -> str:
        # A code is never shown; rel="me" proofs link to the entry and need no token.
        if self.challenge is None or self.challenge.method in (
            Method.EMAIL_CODE, Method.REL_ME, Method.FEDIVERSE,
        ):  # fmt: skip
            return ""
        return self.challenge.token

    @property
    def step_groups(self) -> list[list[Step]]:
        """The steps numbered as the page shows them: each step with the alternatives
        that follow it ("or: …")."""
        groups: list[list[Step]] = []
        for step in self.steps:
            if step.alternative and groups:
                groups[-1].append(step)
            else:
                groups.append([step])
        return groups

    @property
    def status_label(self) -> str:
        return str(STATUS_LABELS.get(self.handle.status, self.handle.status))

    @property
    def method_label(self) -> str:
        return str(METHOD_LABELS.get(self.method, self.method or ""))

    @property
    def last_result_label(self) -> str:
        return str(RESULT_LABELS.get(self.last_check.result, "")) if self.last_check else ""

    @property
    def is_email(self) -> bool:
        return self.method == Method.EMAIL_CODE

    @property
    def needs_code(self) -> bool:
        """An email code was sent and not used yet: the page asks for it."""
        return (
            self.phase == Phase.WAITING
            and self.is_email
            and self.challenge is not None
            and self.challenge.used_at is None
        )

    @property
    def can_check(self) -> bool:
        """The owner may ask for a check now (not for an email address)."""
        return (
            self.phase in (Phase.WAITING, Phase.VERIFIED)
            and self.challenge is not None
            and not self.is_email
        )

    @property
    def can_start(self) -> bool:
        """The owner may start (again): a new token, or a new code."""
        return self.phase in (Phase.UNSTARTED, Phase.WAITING, Phase.REVOKED)

    @property
    def needs_proof_url(self) -> bool:
        return self.method == Method.PROOF_URL


def _when(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M %Z") if moment else ""


def email_steps(handle: Handle) -> list[Step]:
    """The steps of proving an email address with the code sent to it."""
    return [
        Step(
            _("Open the email we sent to %(address)s") % {"address": handle.canonical},
            _(
                "It holds an 8-digit code that works once, for %(minutes)s minutes. Nothing "
                "there? Look in your spam folder, or ask for a new code."
            )
            % {"minutes": settings.VERIFICATION_EMAIL_CODE_MINUTES},
        ),
        Step(_("Enter the code below")),
    ]


def instructions_for(handle: Handle, challenge: VerificationChallenge | None) -> str:
    """What the owner must do next for ``challenge``, in plain words."""
    if challenge is None:
        return _("Start a verification to get a token to publish.")
    if challenge.method == Method.EMAIL_CODE:
        return _("Enter the code we emailed to %(address)s.") % {"address": handle.canonical}
    return verifier_for(challenge.method).instructions(handle, challenge)


def steps_for(handle: Handle, challenge: VerificationChallenge | None) -> list[Step]:
    """What the owner must publish and where for ``challenge``, step by step (empty before
    a proof is started). The values come from the verifier that checks them."""
    if challenge is None:
        return []
    if challenge.method == Method.EMAIL_CODE:
        return email_steps(handle)
    return verifier_for(challenge.method).steps(handle, challenge)


def _summary(handle: Handle, last: VerificationCheck | None) -> str:
    status = handle.status
    when = _when(handle.checked_at)
    if METHOD_FOR_KIND.get(handle.kind) is None:
        return _("Worldbook cannot prove a %(kind)s yet.") % {"kind": handle.get_kind_display()}
    if status == Status.VERIFIED:
        return _("Verified; proof last seen %(when)s.") % {"when": when}
    if status == Status.STALE:
        return _(
            "Stale: the platform has not answered for a while, so the proof is old "
            "(last checked %(when)s)."
        ) % {"when": when}
    if status == Status.REVOKED:
        if last is not None and last.status_after == Status.REVOKED:
            return _("Revoked: %(reason)s") % {"reason": last.reason}
        return _("Revoked: a moderator withdrew the verification.")
    if last is not None and status in (Status.FAILED, Status.UNREACHABLE, Status.PENDING):
        prefix = {
            Status.FAILED: _("Not verified: %(reason)s"),
            Status.UNREACHABLE: _("Could not reach the platform: %(reason)s"),
            Status.PENDING: _("Waiting: %(reason)s"),
        }[status]
        return prefix % {"reason": last.reason}
    if status == Status.PENDING:
        return _("Waiting for your proof.")
    return _("Not verified yet.")


def _phase(handle: Handle, method: str | None, challenge) -> str:
    if handle.status in (Status.VERIFIED, Status.STALE):
        return Phase.VERIFIED
    if method is None:
        return Phase.UNPROVABLE
    if handle.status == Status.REVOKED:
        return Phase.REVOKED
    return Phase.WAITING if challenge is not None else Phase.UNSTARTED


def verification_state(handle: Handle) -> VerificationState:
    """Return the :class:`VerificationState` of ``handle`` (two queries)."""
    challenge = handle.verification_challenges.order_by("-created_at", "-id").first()
    last = handle.verification_checks.order_by("-created_at", "-id").first()
    method = challenge.method if challenge else METHOD_FOR_KIND.get(handle.kind)
    return VerificationState(
        handle=handle,
        method=method,
        challenge=challenge,
        last_check=last,
        summary=_summary(handle, last),
        instructions=instructions_for(handle, challenge),
        steps=steps_for(handle, challenge),
        phase=_phase(handle, METHOD_FOR_KIND.get(handle.kind), challenge),
    )
