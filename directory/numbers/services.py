"""Writes about phone numbers: proof of ownership, retirement, purge, recycled numbers.

Every action is atomic and writes an audit event that names the number only by its row,
country calling code and last two digits, never in clear. The purge therefore has
nothing to chase in audit events or logs: it deletes the clear number from the rows that
hold it (the linked number, proof codes, ``tel:`` endpoints and phone-number handles of
the entry that gave it up) and keeps a keyed hash with the date.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from datetime import timedelta

import phonenumbers
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum
from django.http import HttpRequest
from django.utils import timezone

from accounts.models import AuditEvent, Contact
from accounts.services import audit_record
from directory.exceptions import NormalizationError
from directory.models import Endpoint, Entry, Handle
from directory.normalization import normalize_phone
from directory.numbers.errors import CodeInvalid, LimitReached, NumberStateError
from directory.numbers.hashing import current_key, number_digest
from directory.numbers.models import (
    LinkedNumber,
    LookupQuota,
    NumberNotice,
    NumberSend,
    NumberVerification,
    RetiredNumber,
)
from directory.numbers.sms import SmsSendError, send_sms
from directory.policy import PHONE_HANDLE_KINDS
from directory.services import handle_revoke
from search.services import schedule_entry_sync

logger = logging.getLogger(__name__)

CODE_DIGITS = 6


def read_number(raw: str, region: str | None = None) -> str:
    """The E.164 form of ``raw`` (any spelling :func:`normalize_phone` reads).

    Raises :class:`NormalizationError` when it is not a number, or carries an extension
    (an extension cannot receive a text message, so it cannot be proved).
    """
    try:
        number = normalize_phone(raw, region)
    except NormalizationError:
        if _bad_country_code(raw):
            raise NormalizationError(
                f"{raw!r} is not a valid international number: no country has the "
                "calling code after the +."
            ) from None
        raise
    if number.extension:
        raise NormalizationError("A number with an extension cannot receive a code.")
    return number.e164


def _bad_country_code(raw: str) -> bool:
    """Whether ``raw`` is written with ``+`` but no country has its calling code."""
    text = str(raw).strip()
    if text.lower().startswith("tel:"):
        text = text[4:].split(";", 1)[0].strip()
    if not text.startswith("+"):
        return False
    try:
        phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        return exc.error_type == phonenumbers.NumberParseException.INVALID_COUNTRY_CODE
    return False


def calling_code(e164: str) -> int:
    """The ITU-T E.164 country calling code of ``e164`` (``+390612345678`` → 39)."""
    return phonenumbers.parse(e164).country_code


def _advisory_lock(key: str) -> None:
    """Serialize transactions that take the same ``key`` (PostgreSQL advisory lock,
    released at commit). On SQLite, IMMEDIATE transactions are serial already."""
    if connection.vendor != "postgresql":
        return
    value = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [value])


def _audit_number(action: str, linked_or_entry, e164: str, *, request=None, actor=None, **data):
    entry = linked_or_entry if isinstance(linked_or_entry, Entry) else linked_or_entry.entry
    owner = entry.owner
    audit_record(
        action=action,
        user=owner,
        actor=actor,
        request=request,
        entry=entry.pk,
        calling_code=calling_code(e164),
        last_digits=e164[-2:],
        **data,
    )


# --------------------------------------------------------------------------------------
# Proof of ownership


def _code_digest(verification_entry_id: int, e164: str, code: str) -> str:
    key = current_key()
    message = f"code:{verification_entry_id}:{e164}:{code}".encode()
    return hmac.new(key.secret, message, hashlib.sha256).hexdigest()


def _check_send_limits(digest: str, code: int, account_id: int | None, now) -> None:
    hour, day = now - timedelta(hours=1), now - timedelta(days=1)
    by_number = NumberSend.objects.filter(number_digest=digest)
    by_account = NumberSend.objects.filter(account_id=account_id)
    by_country = NumberSend.objects.filter(calling_code=code)
    limits = [
        (by_number, hour, settings.NUMBER_SENDS_PER_NUMBER_HOUR, "this number, this hour"),
        (by_number, day, settings.NUMBER_SENDS_PER_NUMBER_DAY, "this number, today"),
    ]
    if account_id is not None:
        # Before the country's budget: one account cannot spend a whole country's share.
        limits += [
            (by_account, hour, settings.NUMBER_SENDS_PER_ACCOUNT_HOUR, "this account, this hour"),
            (by_account, day, settings.NUMBER_SENDS_PER_ACCOUNT_DAY, "this account, today"),
        ]
    limits += [
        (by_country, hour, settings.NUMBER_SENDS_PER_COUNTRY_HOUR, f"+{code}, this hour"),
        (by_country, day, settings.NUMBER_SENDS_PER_COUNTRY_DAY, f"+{code}, today"),
    ]
    for queryset, since, limit, what in limits:
        if queryset.filter(sent_at__gt=since).count() >= limit:
            raise LimitReached(f"Too many codes were sent ({what}); try again later.")


def number_send_code(
    *, entry: Entry, raw: str, region: str | None = None, request: HttpRequest | None = None
) -> NumberVerification:
    """Send a one-time code to a number so ``entry``'s owner can prove they hold it.

    Inputs: the entry, the number as written (``raw``) and ``region`` (ISO 3166-1
    alpha-2) for national numbers. Output: the pending :class:`NumberVerification`
    (the code itself is only in the message). A new code replaces any earlier pending
    one for the same entry and number.

    Raises :class:`NormalizationError` for an unreadable number, :class:`NumberStateError`
    when the entry holds the number already, :class:`LimitReached` past the toll-fraud
    limits (``NUMBER_SENDS_PER_NUMBER_HOUR``/``_DAY``, ``NUMBER_SENDS_PER_ACCOUNT_HOUR``/
    ``_DAY`` for the entry's owner, ``NUMBER_SENDS_PER_COUNTRY_HOUR``/``_DAY``) and
    :class:`SmsSendError` (503) when the gateway refuses the message or cannot be loaded
    (the code and the counted send are then withdrawn).
    """
    e164 = read_number(raw, region)
    code_cc = calling_code(e164)
    if LinkedNumber.objects.bound().filter(entry=entry, e164=e164).exists():
        raise NumberStateError("This entry holds that number already.")
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    now = timezone.now()
    account_id = entry.owner_id
    with transaction.atomic():
        # One lock per account, then one per calling code (always in this order): concurrent
        # requests cannot both pass the last slot of either.
        if account_id is not None:
            _advisory_lock(f"numbers.send-account:{account_id}")
        _advisory_lock(f"numbers.send:{code_cc}")
        digest = number_digest(e164, current_key())
        _check_send_limits(digest, code_cc, account_id, now)
        send = NumberSend.objects.create(
            number_digest=digest, calling_code=code_cc, account_id=account_id, sent_at=now
        )
        NumberVerification.objects.filter(entry=entry, e164=e164, used_at=None).delete()
        verification = NumberVerification.objects.create(
            entry=entry,
            e164=e164,
            code_digest=_code_digest(entry.pk, e164, code),
            created_at=now,
            expires_at=now + timedelta(seconds=settings.NUMBER_CODE_TTL),
        )
    minutes = settings.NUMBER_CODE_TTL // 60
    try:
        send_sms(e164, f"Your Worldbook code is {code}. It expires in {minutes} minutes.")
    except SmsSendError:
        # Nothing was sent: the code is withdrawn and the attempt does not count.
        verification.delete()
        send.delete()
        logger.warning("number code for entry %s not sent: gateway refused", entry.pk)
        raise
    _audit_number(AuditEvent.Action.NUMBER_CODE_SENT, entry, e164, request=request)
    return verification


def number_verify(
    *,
    entry: Entry,
    raw: str,
    code: str,
    region: str | None = None,
    request: HttpRequest | None = None,
) -> LinkedNumber:
    """Check a code and link the number to ``entry`` (``active``).

    Inputs: the entry, the number as written, the code received, ``region`` for national
    numbers. Output: the active :class:`LinkedNumber`. If the number is bound to another
    entry (active or retiring: a recycled number), that binding and its forward end at
    once, in the same transaction, under row locks; its owner is told by email after
    commit. A WhatsApp or Signal handle another entry verified on the number is revoked.
    A code works once, until it expires, for ``NUMBER_CODE_MAX_ATTEMPTS`` wrong guesses;
    a wrong guess is counted even though the call fails. A successful proof
    spends every other pending code for the number (anyone's): of two claims at once,
    the first wins and the other is refused with :class:`CodeInvalid`.

    Raises :class:`NormalizationError` for an unreadable number, :class:`CodeInvalid`
    (wrong, expired, used or never sent) and :class:`LimitReached` once the guesses are
    spent.
    """
    e164 = read_number(raw, region)
    given = "".join(ch for ch in str(code) if not ch.isspace())
    wrong = False
    with transaction.atomic():
        # Claims of one number queue here, before any row lock, so they cannot deadlock.
        _advisory_lock(f"numbers.bind:{number_digest(e164, current_key())}")
        verification = (
            NumberVerification.objects.select_for_update()
            .filter(entry=entry, e164=e164, used_at=None)
            .order_by("-created_at", "-id")
            .first()
        )
        now = timezone.now()
        if verification is None or verification.expires_at <= now:
            raise CodeInvalid("No valid code was sent for this number; ask for a new one.")
        if verification.attempts >= settings.NUMBER_CODE_MAX_ATTEMPTS:
            raise LimitReached("Too many wrong codes; ask for a new one.")
        expected = verification.code_digest
        if not hmac.compare_digest(expected, _code_digest(entry.pk, e164, given)):
            verification.attempts += 1
            verification.save(update_fields=["attempts"])
            wrong = True
        else:
            linked = _bind(entry=entry, e164=e164, now=now, request=request)
    if wrong:
        raise CodeInvalid("That code is not right.")
    return linked


def _bind(*, entry: Entry, e164: str, now, request) -> LinkedNumber:
    """Within a transaction holding the number's lock: end any other binding of ``e164``
    and bind it to ``entry``."""
    # The proof is spent, and so is every other code sent to the number before it: only
    # a code sent after this binding can take the number from it.
    NumberVerification.objects.filter(e164=e164).delete()
    holders = list(LinkedNumber.objects.select_for_update().bound().filter(e164=e164))
    for held in holders:
        if held.entry_id == entry.pk:
            return held
    for held in holders:
        _purge(held, reason=LinkedNumber.EndReason.RECYCLED, now=now, keep_for=entry)
    # A messaging handle verified on this number by another entry proved an older holder:
    # it stops answering lookups of the number, which now belongs to ``entry``.
    stale = Handle.objects.filter(
        kind__in=PHONE_HANDLE_KINDS, key=e164, status=Handle.Status.VERIFIED
    ).exclude(entry=entry)
    for handle in stale.select_for_update():
        handle_revoke(handle=handle, when=now)
    linked = LinkedNumber.objects.create(
        entry=entry,
        e164=e164,
        last_digits=e164[-2:],
        calling_code=calling_code(e164),
        linked_at=now,
    )
    _audit_number(
        AuditEvent.Action.NUMBER_LINKED, linked, e164, request=request, linked_number=linked.pk
    )
    return linked


# --------------------------------------------------------------------------------------
# Retirement


def number_retire_start(
    *,
    linked: LinkedNumber,
    days: int | None = None,
    audience: str | None = None,
    request: HttpRequest | None = None,
) -> LinkedNumber:
    """Start retiring an active number: ``active → retiring`` with a forwarding window.

    Inputs: the linked number, ``days`` of forwarding (default ``NUMBER_FORWARD_DAYS``,
    1 to ``NUMBER_FORWARD_MAX_DAYS``), ``audience`` who may see the forward (an
    :class:`Endpoint.Audience` value; default: kept as it is). Output: the retiring row.
    People who saved the entry get a notice on their contacts page and an email after
    commit. Raises :class:`NormalizationError` for a bad window or audience and
    :class:`NumberStateError` when the number is not active.
    """
    days = settings.NUMBER_FORWARD_DAYS if days is None else int(days)
    if not 1 <= days <= settings.NUMBER_FORWARD_MAX_DAYS:
        raise NormalizationError(
            f"The forwarding window is 1 to {settings.NUMBER_FORWARD_MAX_DAYS} days."
        )
    _check_audience(audience)
    with transaction.atomic():
        row = LinkedNumber.objects.select_for_update().select_related("entry").get(pk=linked.pk)
        if row.state != LinkedNumber.State.ACTIVE:
            raise NumberStateError("Only an active number can start retiring.")
        now = timezone.now()
        row.state = LinkedNumber.State.RETIRING
        row.retiring_at = now
        row.forward_until = now + timedelta(days=days)
        if audience:
            row.forward_audience = audience
        row.save()
        _audit_number(
            AuditEvent.Action.NUMBER_RETIRING,
            row,
            row.e164,
            request=request,
            linked_number=row.pk,
            forward_days=days,
            audience=row.forward_audience,
        )
        recipients = list(
            Contact.objects.filter(saved=row.entry)
            .exclude(owner=row.entry)
            .values_list("owner_id", flat=True)
            .distinct()
        )
        notices = NumberNotice.objects.bulk_create(
            [NumberNotice(recipient_id=pk, moved=row.entry, created_at=now) for pk in recipients]
        )
        if recipients:
            from directory.outbox import outbox_enqueue

            outbox_enqueue(
                "numbers.email_contacts",
                args=[row.entry_id, recipients],
                kwargs={"notice_ids": [notice.pk for notice in notices]},
            )
    return row


def _check_audience(audience: str | None) -> None:
    if audience is not None and audience not in Endpoint.Audience.values:
        raise NormalizationError(
            f"{audience!r} is not an audience ({', '.join(Endpoint.Audience.values)})."
        )


def number_set_forward_audience(
    *, linked: LinkedNumber, audience: str, request: HttpRequest | None = None
) -> LinkedNumber:
    """Choose who may see the forward (an :class:`Endpoint.Audience` value).

    A change is recorded as a ``policy_changed`` audit event, like the other visibility
    changes (the number is named by its id, never in clear). Raises
    :class:`NormalizationError` for an unknown audience and :class:`NumberStateError` for
    a retired number."""
    _check_audience(audience)
    with transaction.atomic():
        row = LinkedNumber.objects.select_for_update().select_related("entry").get(pk=linked.pk)
        if row.state == LinkedNumber.State.RETIRED:
            raise NumberStateError("A retired number has no forward.")
        before = row.forward_audience
        if before != audience:
            row.forward_audience = audience
            row.save(update_fields=["forward_audience"])
            audit_record(
                action=AuditEvent.Action.POLICY_CHANGED,
                user=row.entry.owner if row.entry.owner_id else None,
                request=request,
                entry_id=row.entry_id,
                changes={"number_forwards": {str(row.pk): [before, audience]}},
            )
    return row


def _purge(
    linked: LinkedNumber,
    *,
    reason: str,
    now,
    keep_for: Entry | None = None,
    actor=None,
    request=None,
) -> None:
    """Within a transaction, on a locked bound row: end the binding and purge the number.

    Records the keyed hash with today's date, deletes every ``tel:`` endpoint of the
    number (except on ``keep_for``, the entry that holds it now, and on any entry bound to
    it), the entry's own endpoints and phone-number handles that spell it, and its pending
    proof codes; then empties ``e164``.
    """
    e164 = linked.e164
    key = current_key()
    RetiredNumber.objects.create(
        key_version=key.version, digest=number_digest(e164, key), retired_on=now.date()
    )
    keepers = set(
        LinkedNumber.objects.bound()
        .filter(e164=e164)
        .exclude(pk=linked.pk)
        .values_list("entry_id", flat=True)
    )
    if keep_for is not None:
        keepers.add(keep_for.pk)
    digits = e164.lstrip("+")
    endpoints = Endpoint.objects.filter(
        Q(uri=f"tel:{e164}")
        | Q(uri__startswith=f"tel:{e164};")
        | Q(entry=linked.entry_id, uri__contains=digits)
    ).exclude(entry__in=keepers)
    handles = Handle.objects.filter(entry=linked.entry_id).filter(
        Q(key__contains=digits) | Q(canonical__contains=digits) | Q(raw__contains=digits)
    )
    touched = set(endpoints.values_list("entry_id", flat=True)) | set(
        handles.values_list("entry_id", flat=True)
    )
    endpoints.delete()
    handles.exclude(entry__in=keepers).delete()
    NumberVerification.objects.filter(e164=e164).exclude(entry__in=keepers).delete()
    linked.e164 = None
    linked.state = LinkedNumber.State.RETIRED
    linked.retired_at = now
    linked.end_reason = reason
    linked.save()
    for entry_id in touched:
        schedule_entry_sync(entry_id)
    audit_record(
        action=AuditEvent.Action.NUMBER_RETIRED,
        user=linked.entry.owner,
        actor=actor,
        request=request,
        entry=linked.entry_id,
        linked_number=linked.pk,
        calling_code=linked.calling_code,
        last_digits=linked.last_digits,
        reason=reason,
    )
    if reason != LinkedNumber.EndReason.WINDOW_ENDED:
        from directory.outbox import outbox_enqueue

        outbox_enqueue(
            "numbers.email_binding_ended",
            args=[linked.pk],
            dedupe_key=f"numbers.email_binding_ended:{linked.pk}",
        )


def number_end_forwarding(
    *, linked: LinkedNumber, actor=None, request: HttpRequest | None = None
) -> bool:
    """A moderator's "end forwarding now": retire and purge a bound number at once.

    Output: True when this call ended it, False when it was retired already (idempotent).
    """
    with transaction.atomic():
        row = (
            LinkedNumber.objects.select_for_update(of=("self",))
            .select_related("entry__owner")
            .get(pk=linked.pk)
        )
        if row.state == LinkedNumber.State.RETIRED:
            return False
        _purge(
            row,
            reason=LinkedNumber.EndReason.MODERATOR,
            now=timezone.now(),
            actor=actor,
            request=request,
        )
    return True


def number_purge_due(*, linked_id: int, now=None) -> bool:
    """Retire and purge one retiring number whose window has ended (``retiring →
    retired``). Idempotent: a number not (or no longer) due is left alone and False is
    returned; True when this call purged it."""
    now = now or timezone.now()
    with transaction.atomic():
        row = (
            LinkedNumber.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("entry__owner")
            .purge_due(now)
            .filter(pk=linked_id)
            .first()
        )
        if row is None:
            return False
        _purge(row, reason=LinkedNumber.EndReason.WINDOW_ENDED, now=now)
    return True


def numbers_advance(*, now=None) -> int:
    """The scheduled transition: purge every retiring number whose window has ended, and
    drop spent proof codes and send counts older than a day. Output: numbers purged.
    Safe to run twice or in two workers at once (each row is claimed under a lock)."""
    now = now or timezone.now()
    due = list(LinkedNumber.objects.purge_due(now).values_list("pk", flat=True))
    purged = sum(number_purge_due(linked_id=pk, now=now) for pk in due)
    NumberVerification.objects.filter(expires_at__lte=now).delete()
    NumberSend.objects.filter(sent_at__lte=now - timedelta(days=2)).delete()
    LookupQuota.objects.filter(at__lte=now - timedelta(days=2)).delete()
    return purged


# --------------------------------------------------------------------------------------
# Quotas kept in the database


def quota_take(*, client: str, kind: str, items: int, limit: int) -> None:
    """Count ``items`` against ``client``'s daily ``limit`` for ``kind`` (a
    :class:`LookupQuota.Kind`), over the last 24 hours. Raises :class:`LimitReached`
    (nothing counted) when the items would pass the limit."""
    now = timezone.now()
    with transaction.atomic():
        _advisory_lock(f"numbers.quota:{kind}:{client}")
        used = (
            LookupQuota.objects.filter(
                client=client, kind=kind, at__gt=now - timedelta(days=1)
            ).aggregate(total=Sum("items"))["total"]
            or 0
        )
        if used + items > limit:
            raise LimitReached(
                f"This account may ask about {limit} numbers a day here; {used} asked "
                f"already, so {max(limit - used, 0)} are left and this request has {items}. "
                "Nothing was counted."
            )
        LookupQuota.objects.create(client=client, kind=kind, items=items, at=now)


def notice_dismiss(*, recipient: Entry, notice_id: int) -> bool:
    """Hide a notice from ``recipient``'s contacts page. Output: whether one was hidden."""
    return bool(
        NumberNotice.objects.filter(pk=notice_id, recipient=recipient, dismissed_at=None).update(
            dismissed_at=timezone.now()
        )
    )
