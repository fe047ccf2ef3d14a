"""The phone numbers of an uploaded address book, for contact discovery ("who moved where").

The discover page hands the file here and looks the numbers up; nothing is stored. Cards
are read as the vCard import reads them (:mod:`directory.vcards`,
:mod:`directory.vcard_mapping`), so a number is looked up only when the import would keep
it (valid for its region, extension apart), and every number or line left out is
reported with its line, in the import's words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from directory.exceptions import NormalizationError
from directory.vcard_mapping import CardSkipped, card_nickname, plan_card
from directory.vcard_tel import read_tel
from directory.vcards import VCard, VCardSyntaxError, parse_card, read_vcard_file

_TEL_LINE = re.compile(r"^\s*(?:[A-Za-z0-9-]+\.)?TEL[;:]", re.IGNORECASE)


@dataclass
class AddressBookNumbers:
    """What an address book holds for discovery.

    ``numbers``: ``(card name, E.164)`` in file order, a number repeated when several
    cards hold it; ``problems``: ``(line, reason)`` for each line, card or number that
    was not read, in line order (the page shows them as "Line N: reason").
    """

    numbers: list[tuple[str, str]] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


def _tel_numbers(card: VCard, region: str | None, problems: list[tuple[int, str]]) -> list[str]:
    """The E.164 form of each ``TEL`` of a card the import would not name; one that
    cannot be read is added to ``problems``."""
    numbers = []
    for prop in card.all("TEL"):
        if not prop.text.strip():
            continue
        try:
            numbers.append(read_tel(prop.text, region).e164)
        except NormalizationError as exc:
            problems.append((prop.line, _("TEL skipped: %(reason)s") % {"reason": exc.detail}))
    return numbers


def address_book_numbers(*, data: bytes, region: str | None) -> AddressBookNumbers:
    """Read the phone numbers of a vCard file.

    Inputs: the file's bytes (vCard 2.1, 3.0 or 4.0; the caller checks its size) and
    ``region`` (ISO 3166-1 alpha-2, already validated) for national numbers. Output: an
    :class:`AddressBookNumbers`. A card with nothing to name it by still has its numbers
    read (discovery needs no name). Raises :class:`VCardSyntaxError` when no card in the
    file can be read.
    """
    book = read_vcard_file(data)
    found = AddressBookNumbers(problems=[(p.line, p.reason) for p in book.problems])
    problems = found.problems
    read = 0
    for block in book.blocks:
        try:
            card = parse_card(block)
            read += 1
        except VCardSyntaxError as exc:
            problems.append((exc.line, exc.reason))
            continue
        problems.extend((problem.line, problem.reason) for problem in card.problems)
        name = card_nickname(card) or _("Card at line %(line)d") % {"line": block.line}
        try:
            plan = plan_card(card, region=region)
        except CardSkipped:
            found.numbers.extend((name, e164) for e164 in _tel_numbers(card, region, problems))
        else:
            problems.extend(
                (skipped.line, skipped.detail)
                for skipped in plan.skipped
                if skipped.reason.startswith("TEL:")
            )
            for endpoint in plan.endpoints:
                if endpoint.uri.startswith("tel:"):
                    found.numbers.append((name, endpoint.uri[len("tel:") :].split(";")[0]))
        problems.extend(
            (number, _("TEL: taken as part of the value before it; not looked up"))
            for number, text in block.absorbed
            if _TEL_LINE.match(text)
        )
    if not read:
        line, reason = min(problems, default=(1, _("no BEGIN:VCARD line")))
        raise VCardSyntaxError(
            _("The file holds no card that can be read (line %(line)d: %(reason)s).")
            % {"line": line, "reason": reason},
            line=line,
        )
    problems.sort(key=lambda problem: problem[0])
    return found
