"""Writes of the verification pipeline: start a proof, run a check, apply the lifecycle.

Lifecycle (``Handle.status``)::

    unverified → pending → verified → stale | unreachable | failed | revoked

- a check that finds the proof verifies the handle (``handle_mark_verified``), unless
  another entry holds it verified: then a :class:`ContestedClaim` goes to moderators;
- a transient failure (timeout, 5xx, DNS SERVFAIL) is retried with backoff by the task
  and leaves a handle that is not verified ``unreachable``, never ``failed``; a verified
  handle stays verified until its last proof is older than ``VERIFICATION_STALE_SECONDS``,
  then turns ``stale``;
- a proof that is absent leaves a pending handle ``failed``; a verified (or stale) handle
  whose proof is absent at two checks in a row is revoked (``handle_revoke``).

Every check is recorded with its evidence (:class:`VerificationCheck`).

Demo data (``DEMO_DATA``, the demo directory of ``./deploy/run``) is the one exception to
"verified means proved": :func:`verification_record_demo` marks a handle verified with the
method ``demo``, every surface shows it as demo data, and re-checks leave it alone.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
import uuid
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from accounts.models import AuditEvent
from accounts.services import audit_record
from directory.exceptions import ConflictError
from directory.models import Handle
from directory.normalization import normalize_url
from directory.services import handle_mark_verified, handle_revoke
from directory.verification.errors import (
    CodeMalformed,
    CodeRejected,
    DemoDataDisabled,
    ProofRefused,
    ProofUnreachable,
    VerificationUnavailable,
)
from directory.verification.models import (
    ContestedClaim,
    Method,
    VerificationChallenge,
    VerificationCheck,
)
from directory.verification.verifiers import (
    METHOD_FOR_KIND,
    Outcome,
    proof_url_belongs,
    verifier_for,
)
from search.services import schedule_entry_sync

logger = logging.getLogger(__name__)
Result = VerificationCheck.Result
Status = Handle.Status
EMAIL_CODE_ATTEMPTS = 5
EMAIL_CODE_DIGITS = 8
# Statuses in which an entry still holds a handle it proved.
HELD = (Status.VERIFIED, Status.STALE)


def _code_hash(challenge_token: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{challenge_token}:{code}".encode(), hashlib.sha256).hexdigest()


def _audit(action: str, handle: Handle, *, actor=None, **data) -> None:
    """An audit event about the owner of ``handle``'s entry. Only verifiable kinds get
    here (never a phone-number account), so the handle may be named."""
    audit_record(
        action=action, user=handle.entry.owner, actor=actor,
        handle_id=handle.pk, kind=handle.kind, handle=handle.canonical,
        entry=handle.entry.handle_canonical, **data,
    )  # fmt: skip


def _set_status(handle: Handle, status: str, *, when=None) -> None:
    when = when or timezone.now()
    changed = handle.status != status
    handle.status = status
    handle.checked_at = when
    handle.save(update_fields=["status", "checked_at", "updated_at"])
    if changed:
        schedule_entry_sync(handle.entry_id)


@transaction.atomic
def verification_start(*, handle: Handle, proof_url: str = "") -> VerificationChallenge:
    """Start proving ``handle``: make a challenge and, for an email address, send the code.

    Inputs: ``handle`` (its kind decides the method, :data:`METHOD_FOR_KIND`),
    ``proof_url`` (the post holding the token, for X and Telegram; may also be given at
    :func:`verification_request_check`). Output: the new :class:`VerificationChallenge`,
    whose ``token`` the owner publishes. A handle not yet verified becomes ``pending``.
    Raises :class:`VerificationUnavailable` for a kind with no method (phone-number
    accounts, Matrix, XMPP, SIP, Skype) or a proof URL that is not the handle's.
    """
    method = METHOD_FOR_KIND.get(handle.kind)
    if method is None:
        raise VerificationUnavailable(f"Worldbook cannot prove a {handle.get_kind_display()} yet.")
    if method == Method.REL_ME and not handle.canonical.startswith("https://"):
        raise VerificationUnavailable(
            f"{handle.canonical} is not an https address: Worldbook reads proofs over https "
            "only. Claim the https address of the site instead."
        )
    challenge = VerificationChallenge(
        handle=handle, method=method, token="wb-" + secrets.token_urlsafe(18)
    )
    if proof_url:
        challenge.proof_url = _checked_proof_url(handle, proof_url)
    code = ""
    if method == Method.EMAIL_CODE:
        code = "".join(secrets.choice("0123456789") for _ in range(EMAIL_CODE_DIGITS))
        challenge.code_hash = _code_hash(challenge.token, code)
        challenge.expires_at = timezone.now() + timedelta(
            minutes=settings.VERIFICATION_EMAIL_CODE_MINUTES
        )
    challenge.save()
    if handle.status not in HELD:
        _set_status(handle, Status.PENDING)
    if code:
        address = handle.canonical
        minutes = settings.VERIFICATION_EMAIL_CODE_MINUTES
        transaction.on_commit(lambda: _send_code(address, code, minutes, challenge.pk))
    return challenge


def _send_code(address: str, code: str, minutes: int, challenge_id: int) -> None:
    try:
        send_mail(
            "Your Worldbook verification code",
            f"Your code to prove {address} on Worldbook is {code}.\n"
            f"It works once, for {minutes} minutes.\n",
            settings.DEFAULT_FROM_EMAIL,
            [address],
        )
    except Exception:
        # The challenge stands; the owner can ask for a new code. Neither the address nor
        # the code goes to the log.
        logger.exception("sending the code of verification challenge %s failed", challenge_id)


def _checked_proof_url(handle: Handle, proof_url: str) -> str:
    url = normalize_url(proof_url)
    if not proof_url_belongs(handle.kind, handle.canonical, url):
        raise VerificationUnavailable(
            f"{url} is not a public post of {handle.canonical} (expected an https page "
            "under its profile)."
        )
    return url


def current_challenge(handle: Handle) -> VerificationChallenge | None:
    """The newest challenge of ``handle``, or ``None``."""
    return handle.verification_challenges.order_by("-created_at", "-id").first()


@transaction.atomic
def verification_request_check(
    *, handle: Handle, trigger: str = VerificationCheck.Trigger.OWNER, proof_url: str = ""
) -> VerificationChallenge:
    """Queue a fresh check of ``handle`` ("check now"); the task runs after commit.

    Raises :class:`VerificationUnavailable` when no proof was started or the handle is
    an email address (proved by its code, :func:`verification_confirm_code`).
    """
    challenge = current_challenge(handle)
    if challenge is None:
        raise VerificationUnavailable("Start a verification first: there is no token to look for.")
    if challenge.method == Method.EMAIL_CODE:
        raise VerificationUnavailable("An email address is proved by the code sent to it.")
    if proof_url:
        challenge.proof_url = _checked_proof_url(handle, proof_url)
        challenge.save(update_fields=["proof_url"])
    from directory.outbox import outbox_enqueue

    outbox_enqueue(
        "verification.check_handle",
        args=[handle.pk],
        # One run key per request: the check counts once however often it is delivered.
        kwargs={"trigger": str(trigger), "fresh": True, "run": f"{trigger}:{uuid.uuid4().hex}"},
        dedupe_key=f"verification.check_handle:{handle.pk}",
    )
    return challenge


def verification_run_check(
    *,
    handle_id: int,
    trigger: str,
    fresh: bool,
    attempt: int = 0,
    final: bool = True,
    run_key: str = "",
) -> VerificationCheck | None:
    """Check the proof of one handle and apply the lifecycle; record the evidence.

    Inputs: ``handle_id``; ``trigger`` (a :class:`VerificationCheck.Trigger`); ``fresh``
    (DNS without cache); ``attempt`` (0 for the first try); ``final`` (no retry follows:
    a transient failure then settles the status); ``run_key`` (the task run and attempt
    this check is, ``"<run>:<attempt>"``; empty: none). Output: the saved check, or
    ``None`` when the handle or its challenge no longer exists, for a scheduled or
    moderator check of a demo-data handle (left alone), or when a check with the same
    ``run_key`` was already recorded (a message delivered twice, two beats sending the
    same re-check: the second changes nothing). Never raises for what the remote side
    does; the task retries when the result is ``unreachable`` and ``final`` is false.
    """
    handle = Handle.objects.select_related("entry").filter(pk=handle_id).first()
    if handle is None:
        return None
    if run_key and VerificationCheck.objects.filter(handle=handle, run_key=run_key).exists():
        return None
    if handle.is_demo and trigger != VerificationCheck.Trigger.OWNER:
        # Demo data has no proof to look for; only an owner's own proof replaces it.
        return None
    challenge = current_challenge(handle)
    if trigger != VerificationCheck.Trigger.OWNER and handle.status in HELD:
        # Re-checks look for the proof that verified the handle, not for a newer token the
        # owner may not have published yet.
        proved = (
            VerificationCheck.objects.filter(handle=handle, result=Result.VERIFIED)
            .exclude(challenge=None)
            .select_related("challenge")
            .order_by("-created_at", "-id")
            .first()
        )
        if proved is not None:
            challenge = proved.challenge
    if challenge is None or challenge.method == Method.EMAIL_CODE:
        return None
    verifier = verifier_for(challenge.method, fresh=fresh)
    started = time.monotonic()
    try:
        outcome = verifier.check(handle, challenge)
    except ProofUnreachable as exc:
        outcome = Outcome(Result.UNREACHABLE, f"{exc.reason}; Worldbook will try again.",
                          {"fetched": verifier.fetched})  # fmt: skip
    except ProofRefused as exc:
        outcome = Outcome(Result.REFUSED, f"{exc.reason}.", {"fetched": verifier.fetched})
    except Exception:
        # A fault of ours must not lose the check or stop the worker: it is recorded as
        # "could not look" (retried), and logged with its traceback for the operators.
        logger.exception("verification check of handle %s failed", handle_id)
        outcome = Outcome(
            Result.UNREACHABLE, "Worldbook could not finish this check; it will try again.",
            {"fetched": verifier.fetched, "internal_error": True},
        )  # fmt: skip
    duration = int((time.monotonic() - started) * 1000)
    return _apply(
        handle_id=handle.pk, challenge=challenge, method=challenge.method, outcome=outcome,
        trigger=trigger, attempt=attempt, final=final, duration_ms=duration, run_key=run_key,
    )  # fmt: skip


@transaction.atomic
def _apply(
    *, handle_id, challenge, method, outcome: Outcome, trigger, attempt, final, duration_ms,
    run_key="",
) -> VerificationCheck | None:  # fmt: skip
    handle = Handle.objects.select_for_update().filter(pk=handle_id).first()
    if handle is None:
        return None
    if run_key and VerificationCheck.objects.filter(handle=handle, run_key=run_key).exists():
        # The same run, delivered twice and checked at once by two workers: the handle's
        # lock made this one wait for the other, whose check counts.
        return None
    now = timezone.now()
    previous = (
        VerificationCheck.objects.filter(handle=handle)
        .exclude(result=Result.UNREACHABLE)
        .order_by("-created_at", "-id")
        .first()
    )
    check = VerificationCheck(
        handle=handle, challenge=challenge, method=method, trigger=trigger,
        result=outcome.result, reason=outcome.reason, evidence=outcome.evidence,
        attempt=attempt, duration_ms=duration_ms, created_at=now, run_key=run_key,
    )  # fmt: skip
    result = outcome.result
    if result == Result.VERIFIED:
        _proved(handle, check, now)
    elif result == Result.UNREACHABLE and handle.status != Status.REVOKED:
        check.evidence["retry_follows"] = not final
        if handle.status in HELD:
            if _proof_age(handle, now) > timedelta(seconds=settings.VERIFICATION_STALE_SECONDS):
                _set_status(handle, Status.STALE, when=now)
            else:
                _set_status(handle, handle.status, when=now)
        else:
            _set_status(handle, Status.UNREACHABLE, when=now)
    elif handle.status == Status.REVOKED:
        # Revoked stays revoked until a proof is found again.
        _set_status(handle, Status.REVOKED, when=now)
    else:
        if handle.status in HELD:
            if previous is not None and previous.result in VerificationCheck.ABSENT:
                handle_revoke(handle=handle, when=now)
                _audit(AuditEvent.Action.HANDLE_REVOKED, handle,
                       reason="proof missing at two checks in a row")  # fmt: skip
                check.reason += " The proof was missing at two checks in a row: revoked."
            else:
                _set_status(handle, handle.status, when=now)
                check.reason += " Worldbook will look again; missing twice in a row revokes."
        else:
            _set_status(handle, Status.FAILED, when=now)
    check.status_after = handle.status
    check.save()
    return check


def _proof_age(handle: Handle, now) -> timedelta:
    last = (
        (
            VerificationCheck.objects.filter(handle=handle, result=Result.VERIFIED)
            .order_by("-created_at")
            .values_list("created_at", flat=True)
            .first()
        )
        or handle.verified_at
        or now
    )
    return now - last


def _holder(handle: Handle) -> Handle | None:
    return (
        Handle.objects.filter(kind=handle.kind, key=handle.key, status__in=HELD)
        .exclude(entry_id=handle.entry_id)
        .order_by("verified_at")
        .first()
    )


def _proved(handle: Handle, check: VerificationCheck, now) -> None:
    holder = _holder(handle)
    if holder is None:
        try:
            with transaction.atomic():
                held = handle.status in HELD
                # verified_at keeps the start of the current run of proofs (a handle that
                # was failed or revoked starts a new one); checked_at says when it was
                # last seen.
                handle_mark_verified(
                    handle=handle, when=handle.verified_at if held else now, method=check.method
                )
                if not held:
                    _audit(AuditEvent.Action.HANDLE_VERIFIED, handle, method=check.method)
                handle.checked_at = now
                handle.save(update_fields=["checked_at", "updated_at"])
            return
        except ConflictError:
            handle.refresh_from_db()
            holder = _holder(handle)
    check.result = Result.CONTESTED
    check.reason = (
        f"The proof is there, but another entry ({holder.entry if holder else 'unknown'}) "
        "holds this handle verified. Moderators will review the claim."
    )
    # The constraint keeps the claimant from being verified here; it waits as pending.
    _set_status(handle, Status.PENDING, when=now)
    check.save()
    if (
        holder is not None
        and not ContestedClaim.objects.filter(
            handle=handle, status=ContestedClaim.Status.OPEN
        ).exists()
    ):
        ContestedClaim.objects.create(handle=handle, held_by=holder, check_record=check)
        _audit(AuditEvent.Action.CLAIM_CONTESTED, handle,
               held_by_entry=holder.entry.handle_canonical)  # fmt: skip


def tries_left(left: int) -> str:
    """``"1 try left"``, ``"3 tries left"``, ``"no tries left"``: the count in words."""
    if left <= 0:
        return "no tries left"
    return f"{left} {'try' if left == 1 else 'tries'} left"


def verification_confirm_code(*, handle: Handle, code: str) -> VerificationCheck:
    """Prove an email address with the code sent to it.

    Inputs: ``handle`` (kind email) and ``code`` as typed (spaces ignored). Output: the
    recorded check (``verified``, or ``contested`` when another entry holds the address).
    The code is single-use, expires after ``VERIFICATION_EMAIL_CODE_MINUTES`` and allows
    :data:`EMAIL_CODE_ATTEMPTS` tries, counted in the database. Raises
    :class:`CodeMalformed` for input that is not ``EMAIL_CODE_DIGITS`` digits (not
    counted as a try), :class:`CodeRejected` for a wrong, used, expired or exhausted code and
    :class:`VerificationUnavailable` when no code was sent.
    """
    code = "".join(code.split())
    if len(code) != EMAIL_CODE_DIGITS or not code.isascii() or not code.isdigit():
        # A typo, not a guess: refused without using up one of the tries.
        raise CodeMalformed(
            f"A code is {EMAIL_CODE_DIGITS} digits, as in the email; this try was not counted."
        )
    with transaction.atomic():
        challenge = (
            VerificationChallenge.objects.select_for_update()
            .filter(handle=handle, method=Method.EMAIL_CODE)
            .order_by("-created_at", "-id")
            .first()
        )
        if challenge is None:
            raise VerificationUnavailable("No code was sent to this address: start again.")
        now = timezone.now()
        problem = ""
        if challenge.used_at is not None:
            problem = "This code was used already; ask for a new one."
        elif challenge.expires_at is not None and challenge.expires_at < now:
            problem = "This code has expired; ask for a new one."
        elif challenge.attempts >= EMAIL_CODE_ATTEMPTS:
            problem = "Too many wrong codes; ask for a new one."
        elif not hmac.compare_digest(challenge.code_hash, _code_hash(challenge.token, code)):
            challenge.attempts += 1
            challenge.save(update_fields=["attempts"])
            left = EMAIL_CODE_ATTEMPTS - challenge.attempts
            problem = f"That is not the code we sent ({tries_left(left)})."
        if problem:
            # The evidence of a refused code (never the code itself).
            VerificationCheck.objects.create(
                handle=handle, challenge=challenge, method=Method.EMAIL_CODE,
                trigger=VerificationCheck.Trigger.OWNER, result=Result.MISMATCH,
                reason=problem, status_after=handle.status, created_at=now,
            )  # fmt: skip
        else:
            challenge.used_at = now
            challenge.save(update_fields=["used_at"])
            return _apply(
                handle_id=handle.pk, challenge=challenge, method=Method.EMAIL_CODE,
                outcome=Outcome(
                    Result.VERIFIED, f"the code sent to {handle.canonical} was given back."
                ),
                trigger=VerificationCheck.Trigger.OWNER, attempt=0, final=True, duration_ms=0,
            )  # fmt: skip
    # Raised after the transaction committed, so the counted attempt is kept.
    raise CodeRejected(problem)


@transaction.atomic
def verification_record_demo(*, handle: Handle) -> VerificationCheck:
    """Mark ``handle`` verified as demo data, not a proof (the demo directory).

    Input: ``handle``, a claim of an entry of the demo directory. Nothing is fetched or
    checked: a :class:`VerificationCheck` with the method :attr:`Method.DEMO` records that
    the handle is demo data, and the handle is marked verified through
    :func:`directory.services.handle_mark_verified` with ``verified_by = "demo"``, so the
    one-verified-owner constraint holds as for a real proof. Every surface then shows a
    "Demo" badge, and scheduled re-checks leave the handle alone. Idempotent: a handle
    verified as demo data already keeps its dates and its check. Output: the demo check.
    Raises :class:`DemoDataDisabled` unless ``settings.DEMO_DATA`` is on (only
    ``./deploy/run`` turns it on), :class:`ConflictError` when another entry holds the
    handle verified or this one was proved for real (a real proof is never overwritten).
    """
    if not settings.DEMO_DATA:
        raise DemoDataDisabled(
            "Demo verifications are possible only with DEMO_DATA switched on, as "
            "./deploy/run does for its demo directory."
        )
    handle = Handle.objects.select_for_update().select_related("entry").get(pk=handle.pk)
    if handle.status in HELD and handle.verified_by != Handle.DEMO:
        raise ConflictError(f"{handle.canonical} is verified by a real proof: left as it is.")
    existing = (
        VerificationCheck.objects.filter(handle=handle, method=Method.DEMO, result=Result.VERIFIED)
        .order_by("-created_at", "-id")
        .first()
    )
    if handle.is_demo and existing is not None:
        return existing
    now = timezone.now()
    handle_mark_verified(handle=handle, when=now, method=Method.DEMO)
    return VerificationCheck.objects.create(
        handle=handle, method=Method.DEMO, trigger=VerificationCheck.Trigger.DEMO,
        result=Result.VERIFIED, reason="Demo data, not a proof: nothing was checked.",
        evidence={"demo": True}, status_after=handle.status, created_at=now,
    )  # fmt: skip


def handles_due_for_recheck(now=None):
    """Handles the schedule re-checks: verified or stale, not email addresses, not demo
    data (nothing to look for), last checked ``VERIFICATION_RECHECK_SECONDS`` ago or more.
    Output: a QuerySet of ids."""
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.VERIFICATION_RECHECK_SECONDS)
    return (
        Handle.objects.filter(status__in=HELD, verification_challenges__isnull=False)
        .exclude(kind="email")
        .exclude(verified_by=Handle.DEMO)
        .filter(checked_at__lte=cutoff)
        .values_list("pk", flat=True)
        .distinct()
    )


def verification_mark_stale(now=None) -> int:
    """Mark ``stale`` every verified handle proved through this pipeline whose last proof
    read is older than ``VERIFICATION_STALE_SECONDS`` (its re-checks kept failing to reach
    the platform, or never ran). Output: how many handles changed. Handles verified by a
    moderator without a proof to look for, or as demo data, are left alone.
    """
    now = now or timezone.now()
    cutoff = now - timedelta(seconds=settings.VERIFICATION_STALE_SECONDS)
    last_proof = Subquery(
        VerificationCheck.objects.filter(handle=OuterRef("pk"), result=Result.VERIFIED)
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    old = (
        Handle.objects.filter(status=Status.VERIFIED, verification_challenges__isnull=False)
        .exclude(verified_by=Handle.DEMO)
        .annotate(last_proof=last_proof)
        .filter(Q(last_proof__lt=cutoff) | Q(last_proof__isnull=True, verified_at__lt=cutoff))
        .distinct()
    )
    changed = 0
    for handle_id in list(old.values_list("pk", flat=True)):
        with transaction.atomic():
            locked = Handle.objects.select_for_update().get(pk=handle_id)
            # A check may have verified it again since the query above.
            if locked.status == Status.VERIFIED:
                _set_status(locked, Status.STALE, when=locked.checked_at or now)
                changed += 1
    return changed


@transaction.atomic
def contested_claim_resolve(
    *, claim: ContestedClaim, moderator, revoke_holder: bool = False
) -> ContestedClaim:
    """Close an open contested claim.

    Inputs: ``claim``; ``moderator`` (the user deciding); ``revoke_holder`` — ``False``: the
    holder keeps the handle; ``True``: the holder's verification is revoked
    (``handle_revoke``) and the claimant may check its proof again. Writes audit events
    (``claim_resolved``, and ``handle_revoked`` for the holder). Output: the claim. Raises
    :class:`ConflictError` when the claim is resolved already.
    """
    claim = (
        ContestedClaim.objects.select_for_update()
        .select_related("handle__entry", "held_by__entry")
        .get(pk=claim.pk)
    )
    if claim.status != ContestedClaim.Status.OPEN:
        raise ConflictError("This claim is resolved already.")
    if revoke_holder:
        handle_revoke(handle=claim.held_by)
        _audit(AuditEvent.Action.HANDLE_REVOKED, claim.held_by, actor=moderator,
               reason="contested claim", claim_id=claim.pk)  # fmt: skip
        resolution = "The holder's verification was revoked; the claimant may check again."
    else:
        resolution = "The holder keeps the handle."
    claim.status = ContestedClaim.Status.RESOLVED
    claim.resolved_at = timezone.now()
    claim.resolved_by = moderator
    claim.resolution = resolution
    claim.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
    _audit(AuditEvent.Action.CLAIM_RESOLVED, claim.handle, actor=moderator,
           claim_id=claim.pk, resolution=resolution)  # fmt: skip
    return claim
