"""Contacts: the entries a person saved in their address book, and importing a vCard file
into it.

A contact is saved *by* one of the person's entries (``Contact.owner``); saving someone
opens that entry's ``contacts`` endpoints to the saved entry's owner (see
:mod:`directory.policy`). Every function here takes the acting entry and the signed-in
account; entries the account may not see are treated as missing, so nothing here tells
a hidden entry from a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import phonenumbers
from django.db import IntegrityError, transaction
from django.db.models import Q

from accounts.models import Contact
from directory.exceptions import (
    ConflictError,
    Forbidden,
    NormalizationError,
    NotFound,
    WorldbookError,
)
from directory.models import Entry, Handle
from directory.normalization import HandleKind, normalize_directory_handle
from directory.policy import entry_visible_to, handle_answers_lookup
from directory.selectors import entry_get_by_handle, entry_get_for_owner
from directory.vcard_mapping import CardSkipped, card_nickname, plan_card
from directory.vcards import VCard, VCardSyntaxError, parse_card, read_vcard_file
from directory.webfinger import resource_handle

# An address book of a few thousand cards without photos fits well inside this; photos,
# which are the bulk of real exports, are dropped before parsing anyway.
IMPORT_MAX_BYTES = 2 * 1024 * 1024
NOTE_MAX = Contact._meta.get_field("note").max_length
_PHONE_KINDS = (HandleKind.WHATSAPP, HandleKind.SIGNAL)
_FORM_OVERHEAD = 64 * 1024


class FileTooLarge(WorldbookError):
    """An uploaded file is larger than the limit (HTTP 413, RFC 9110 §15.5.14)."""

    status = 413
    slug = "file-too-large"
    title = "The file is too large"


def import_size_check(size: int) -> None:
    """Raise :class:`FileTooLarge` when a file of ``size`` bytes is over
    :data:`IMPORT_MAX_BYTES`; callers check an upload's size before reading it."""
    if size > IMPORT_MAX_BYTES:
        raise FileTooLarge(
            f"The file has {size} bytes; at most {IMPORT_MAX_BYTES} "
            f"({IMPORT_MAX_BYTES // (1024 * 1024)} MiB) are accepted."
        )


def upload_size_check(content_length: str | None) -> None:
    """Refuse a request whose body (``Content-Length``, RFC 9110 §8.6) cannot hold a file
    within the limit, before any of it is read: the body may exceed the file by the
    multipart framing and the form's other fields, allowed for with 64 KiB. Raises
    :class:`FileTooLarge`."""
    try:
        length = int(content_length or 0)
    except ValueError:
        return
    if length > IMPORT_MAX_BYTES + _FORM_OVERHEAD:
        raise FileTooLarge(
            f"The request has {length} bytes; a file of at most {IMPORT_MAX_BYTES} "
            f"({IMPORT_MAX_BYTES // (1024 * 1024)} MiB) is accepted."
        )


def acting_entry(*, user, handle: str | None = None) -> Entry:
    """The entry ``user`` acts for in their address book.

    Input: the signed-in account and, optionally, the directory handle of one of its
    entries (``alice`` or ``@alice``, the API's ``?as=``). Output: that entry, or the
    account's first entry (the oldest) when ``handle`` is not given. Raises
    :class:`NotFound`/:class:`Forbidden` as :func:`directory.selectors.entry_get_for_owner`
    does for a handle the account does not own, and :class:`Forbidden` when the account
    owns no entry (an address book belongs to an entry).
    """
    if handle:
        return entry_get_for_owner(handle, user=user, require_active=False)
    entry = Entry.objects.filter(owner=user).order_by("created_at", "pk").first()
    if entry is None:
        raise Forbidden("Create an entry first: an address book belongs to an entry.")
    return entry


@transaction.atomic
def contact_save(*, owner: Entry, saved: Entry, note: str = "") -> tuple[Contact, bool]:
    """Save ``saved`` in ``owner``'s address book.

    Inputs: the acting entry, the entry to save (already fetched through the policy),
    and an optional ``note`` (at most 200 characters). Output: ``(contact, created)``;
    saving an entry already saved returns the existing contact unchanged. Raises
    :class:`ConflictError` when an entry would save itself and
    :class:`NormalizationError` for a note that is too long.
    """
    if owner.pk == saved.pk:
        raise ConflictError("An entry cannot save itself as a contact.")
    if len(note) > NOTE_MAX:
        raise NormalizationError(f"A note has at most {NOTE_MAX} characters.")
    existing = Contact.objects.filter(owner=owner, saved=saved).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            contact = Contact.objects.create(owner=owner, saved=saved, note=note)
    except IntegrityError:
        # Saved at the same moment by another request: the contact exists, as wanted.
        return Contact.objects.get(owner=owner, saved=saved), False
    return contact, True


def contact_save_by_handle(
    *, owner: Entry, handle: str, user, note: str = ""
) -> tuple[Contact, bool]:
    """Save the entry with directory handle ``handle`` for the signed-in ``user``.

    Raises :class:`NotFound` when no entry visible to ``user`` has that handle, and as
    :func:`contact_save` does.
    """
    saved = entry_get_by_handle(handle, caller=user)
    return contact_save(owner=owner, saved=saved, note=note)


@transaction.atomic
def contact_remove(*, owner: Entry, handle: str) -> None:
    """Remove the entry with directory handle ``handle`` from ``owner``'s address book.

    Raises :class:`NotFound` when it is not there (or the handle cannot be a directory
    handle).
    """
    try:
        canonical = normalize_directory_handle(handle).canonical
    except NormalizationError:
        raise NotFound("That entry is not in this address book.") from None
    deleted, _ = Contact.objects.filter(owner=owner, saved__handle_canonical=canonical).delete()
    if not deleted:
        raise NotFound("That entry is not in this address book.")


def contacts_list(*, owner: Entry, user) -> list[Contact]:
    """``owner``'s contacts, newest first, with ``saved`` loaded.

    Contacts whose entry ``user`` may no longer see (suspended) are left out; they come
    back if the entry is reinstated.
    """
    contacts = Contact.objects.filter(owner=owner).select_related("saved")
    return [c for c in contacts if entry_visible_to(c.saved, user)]


@dataclass(frozen=True)
class CardResult:
    """One card of an imported file: ``line`` of its ``BEGIN:VCARD``, ``name`` as the
    card gives it, and the directory handles (``@alice``) of the entries it matched."""

    line: int
    name: str
    matched: tuple[str, ...] = ()


@dataclass
class ContactImport:
    """What importing a vCard file into an address book did.

    ``cards`` holds every card read, in file order; ``problems`` the lines that could not
    be read (``(line, message)``); ``saved`` how many contacts were new and ``already``
    how many were saved before.
    """

    cards: list[CardResult] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)
    saved: int = 0
    already: int = 0

    @property
    def matched(self) -> list[CardResult]:
        return [c for c in self.cards if c.matched]

    @property
    def unmatched(self) -> list[CardResult]:
        return [c for c in self.cards if not c.matched]

    def summary(self) -> str:
        """One line, e.g. ``12 cards: 7 matched, 5 not in Worldbook``."""
        total = len(self.cards)
        text = (
            f"{total} card{'s' if total != 1 else ''}: {len(self.matched)} matched, "
            f"{len(self.unmatched)} not in Worldbook"
        )
        if self.problems:
            count = len(self.problems)
            text += f"; {count} problem{'s' if count != 1 else ''} in the file"
        return text


@dataclass
class _CardKeys:
    line: int
    name: str
    handles: set[tuple[str, str]] = field(default_factory=set)
    directory_handles: set[str] = field(default_factory=set)


def _directory_handle_in(value: str) -> str | None:
    """The canonical directory handle named by an acct: URI or an entry page URL of this
    directory (as WebFinger reads them), or ``None``."""
    try:
        handle = resource_handle(value.strip())
        return normalize_directory_handle(handle).canonical
    except (NormalizationError, NotFound):
        return None


def _card_keys(card: VCard, line: int, region: str | None) -> _CardKeys:
    keys = _CardKeys(line=line, name=card_nickname(card))
    try:
        plan = plan_card(card, region=region)
    except CardSkipped:
        plan = None
    if plan is not None:
        keys.handles |= {(h.kind, h.key) for h in plan.handles}
        for endpoint in plan.endpoints:
            if endpoint.uri.startswith("tel:"):
                number = endpoint.uri[len("tel:") :].split(";")[0]
                keys.handles |= {(kind, number) for kind in _PHONE_KINDS}
    for prop in (*card.all("URL"), *card.all("IMPP"), *card.all("X-SOCIALPROFILE")):
        found = _directory_handle_in(prop.text)
        if found:
            keys.directory_handles.add(found)
    return keys


def _entries_for(cards: list[_CardKeys], user) -> tuple[dict, dict]:
    """Two lookups for the whole file: verified handles by ``(kind, key)`` and entries by
    directory handle, each kept only when the policy lets ``user`` find it."""
    by_handle: dict[tuple[str, str], Entry] = {}
    wanted = {key for card in cards for key in card.handles}
    if wanted:
        query = Q()
        for kind in {kind for kind, _ in wanted}:
            query |= Q(kind=kind, key__in=[key for k, key in wanted if k == kind])
        handles = Handle.objects.filter(query, status=Handle.Status.VERIFIED).select_related(
            "entry"
        )
        for handle in handles:
            if handle_answers_lookup(handle, user) and entry_visible_to(handle.entry, user):
                by_handle[(handle.kind, handle.key)] = handle.entry
    by_directory_handle: dict[str, Entry] = {}
    names = {name for card in cards for name in card.directory_handles}
    if names:
        for entry in Entry.objects.filter(handle_canonical__in=names):
            if entry_visible_to(entry, user):
                by_directory_handle[entry.handle_canonical] = entry
    return by_handle, by_directory_handle


@transaction.atomic
def contacts_import_vcard(
    *, owner: Entry, user, data: bytes, region: str | None = None
) -> ContactImport:
    """Save into ``owner``'s address book the entries a vCard file's cards stand for.

    Inputs: the acting entry, the signed-in ``user`` (whose view of the directory the
    contact policy decides), the file's bytes (vCard 2.1, 3.0 or 4.0, RFC 6350; at most
    :data:`IMPORT_MAX_BYTES`) and ``region`` (ISO 3166-1 alpha-2) to read national phone
    numbers in. A card matches an entry through a *verified* handle of it: an email
    address, a number (E.164, against verified WhatsApp and Signal numbers of entries
    findable by number), an IMPP or social profile handle, a web address; or through the
    entry's own directory handle in a ``URL`` or ``IMPP`` (``{SITE_URL}/@alice``,
    ``acct:alice@{WORLDBOOK_DOMAIN}``). Cards that match nothing are reported, never made
    into entries; the owner's own entry is never saved.

    Output: a :class:`ContactImport`. Raises :class:`FileTooLarge` past the size limit,
    :class:`NormalizationError` for an unknown region and :class:`VCardSyntaxError` (with
    the line) when no card in the file can be read.
    Runs in one transaction: an error leaves the address book as it was.
    """
    import_size_check(len(data))
    region = region.upper() if region else None
    if region is not None and region not in phonenumbers.SUPPORTED_REGIONS:
        raise NormalizationError(f"{region!r} is not a region code (ISO 3166-1 alpha-2).")
    book = read_vcard_file(data)
    report = ContactImport()
    report.problems = [(p.line, p.reason) for p in book.problems]
    cards: list[_CardKeys] = []
    for block in book.blocks:
        try:
            card = parse_card(block)
        except VCardSyntaxError as exc:
            report.problems.append((exc.line, exc.reason))
            continue
        # A line that cannot be read costs only its property; the card is still matched.
        report.problems.extend((problem.line, problem.reason) for problem in card.problems)
        cards.append(_card_keys(card, block.line, region))
    report.problems.sort(key=lambda problem: problem[0])
    if not cards:
        line, reason = min(report.problems, default=(1, "no BEGIN:VCARD line"))
        raise VCardSyntaxError(
            f"The file holds no card that can be read (line {line}: {reason}).", line=line
        )
    by_handle, by_directory_handle = _entries_for(cards, user)
    for card in cards:
        entries = {by_handle[k].pk: by_handle[k] for k in card.handles if k in by_handle}
        for name in card.directory_handles & by_directory_handle.keys():
            entries[by_directory_handle[name].pk] = by_directory_handle[name]
        entries.pop(owner.pk, None)
        matched = sorted(entries.values(), key=lambda e: e.handle_canonical)
        for entry in matched:
            _, created = contact_save(owner=owner, saved=entry)
            if created:
                report.saved += 1
            else:
                report.already += 1
        report.cards.append(
            CardResult(
                line=card.line,
                name=card.name or f"Card at line {card.line}",
                matched=tuple(e.at_handle for e in matched),
            )
        )
    return report
