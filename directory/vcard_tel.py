"""Reading the phone number of a vCard ``TEL`` property.

Standards: RFC 6350 §6.4.1 and RFC 2426 §3.3.1 (``TEL``), RFC 3966 (``tel:`` URIs: the
``ext`` and ``phone-context`` parameters), ITU-T E.164 with the numbering plans of
libphonenumber.

Two things set a ``TEL`` value apart from a number a person types into a form:

- address books write extensions every way there is: RFC 3966's ``;ext=204``, ``x204``,
  ``ext. 204``, ``#204``, and the pause and wait dial characters phones keep after the
  number (``,204`` ``;204``, and ``p204`` ``w204`` in Android exports). E.164 has no
  extension, so it is split off here and kept apart (:class:`PhoneNumber.extension`);
- a file holds numbers of many countries, read under one region for those written without
  a country code. A number is kept only when libphonenumber calls it *valid*
  (``is_valid_number``), not merely *possible* (of a plausible length): ``030 1234567``,
  a Berlin number, read under ``US`` has ten digits like a US number but no US area code
  starts with 0, and must not become ``+10301234567``.
"""

from __future__ import annotations

import re

import phonenumbers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from directory.exceptions import NormalizationError
from directory.normalization import PhoneNumber, normalize_phone

# libphonenumber keeps at most 20 digits of an extension.
EXTENSION_MAX = 20

# An extension written after the number. Letters count only right after a digit, a space
# or a parenthesis, so the letters of a vanity number (1-800-MYFAX) are never taken for one.
_EXTENSION_SUFFIX = re.compile(
    r"""(?ix)
    (?: \s*;\s*ext\s*=\s*                        # RFC 3966, written into a text value
      | \s*(?<![a-z])(?:extension|extn|ext)\.?:?\s*   # ext. 204, extn 204, extension 204
      | \s*(?<=[\d\s)])[xX]\.?\s*                # x204
      | \s*\#\s*                                 # #204
      | \s*[,;]+\s*                              # pause (,) and wait (;) as phones write
      | (?<=\d)[pw]+                             # Android's vCard spelling of , and ;
    )
    (?P<ext>\d[\d.\- ]*?)\s*\#?\s*$
    """
)
_VISUAL_SEPARATORS = re.compile(r"[\s.\-()]")


def split_extension(value: str) -> tuple[str, str]:
    """Split a ``TEL`` value into the number and its extension.

    Input: the value as the card gives it (unescaped), a ``tel:`` URI (RFC 3966) or text.
    Output: ``(number, extension)``; ``extension`` is digits only, ``""`` when there is
    none. A ``tel:`` URI's ``phone-context`` that is a number (``+1``) is put before a
    local number; other URI parameters (``isub``, a domain ``phone-context``) are dropped.
    Never raises: what is not a number is left for :func:`read_tel` to refuse.
    """
    text = value.strip()
    extension = ""
    if text[:4].lower() == "tel:":
        number, *params = text[4:].split(";")
        context = ""
        for param in params:
            name, _eq, param_value = param.partition("=")
            name = name.strip().lower()
            if name == "ext":
                extension = param_value.strip()
            elif name == "phone-context":
                context = param_value.strip()
            elif not param_value and _VISUAL_SEPARATORS.sub("", name).isdigit():
                # ";204": not RFC 3966, but the wait character phones write before digits
                # to dial once the call is answered.
                extension = extension or name
        if context.startswith("+") and not number.strip().startswith("+"):
            number = context + number
        text = number.strip()
    match = _EXTENSION_SUFFIX.search(text)
    if match and any(ch.isdigit() for ch in text[: match.start()]):
        extension = extension or match.group("ext")
        text = text[: match.start()].rstrip()
    return text, _VISUAL_SEPARATORS.sub("", extension)


def _country(number: phonenumbers.PhoneNumber, region: str | None) -> str:
    """``+1 (US)``: the country code, and the region the number was read in or, for a
    number written with its country code, that code's main region (an invalid number
    belongs to no region of its own)."""
    if number.country_code_source != phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY:
        region = phonenumbers.region_code_for_country_code(number.country_code)
    return f"+{number.country_code} ({region})"


def _parse(text: str, region: str | None) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(text, region, keep_raw_input=True)
    except phonenumbers.NumberParseException:
        return None


# Translated where they are used; marked here so that makemessages finds them.
_IMPOSSIBLE = {
    phonenumbers.ValidationResult.TOO_SHORT: gettext_noop(
        "%(value)s is too short for a number of %(country)s."
    ),
    phonenumbers.ValidationResult.TOO_LONG: gettext_noop(
        "%(value)s is too long for a number of %(country)s."
    ),
    phonenumbers.ValidationResult.INVALID_LENGTH: gettext_noop(
        "%(value)s has a length no number of %(country)s has."
    ),
    phonenumbers.ValidationResult.IS_POSSIBLE_LOCAL_ONLY: gettext_noop(
        "%(value)s is a local number of %(country)s: it needs its area code."
    ),
    phonenumbers.ValidationResult.INVALID_COUNTRY_CODE: gettext_noop(
        "%(value)s starts with a country code that does not exist."
    ),
}


def _national_hint(number: phonenumbers.PhoneNumber, region: str | None) -> str:
    if number.country_code_source == phonenumbers.CountryCodeSource.FROM_DEFAULT_COUNTRY:
        return " " + _(
            "It was read as a national number of %(region)s; a number of another country "
            "needs its + and country code."
        ) % {"region": region}
    return ""


def read_tel(value: str, region: str | None = None) -> PhoneNumber:
    """Read the number of a vCard ``TEL`` value, extension kept apart.

    Inputs: ``value``, the property's unescaped value (text or a ``tel:`` URI, see
    :func:`split_extension` for the extension spellings read); ``region``, an ISO 3166-1
    alpha-2 code for numbers written without a country code. Output: a
    :class:`~directory.normalization.PhoneNumber` in E.164 whose number libphonenumber
    calls valid (``is_valid_number``: a real area code or range of its country, not only
    a plausible length).

    Raises :class:`NormalizationError` naming the value and why: letters (vanity numbers,
    names), a national number without a region, too short, too long, a length its
    country has no number of, a local number without its area code, an unknown country
    code, possible but not valid (with a hint when it was read as a national number of
    ``region``), or an extension longer than 20 digits.
    """
    text, extension = split_extension(value)
    shown = repr(value.strip()[:80])
    try:
        number = normalize_phone(text, region)
    except NormalizationError:
        # normalize_phone refuses letters and text that is no number with its own words;
        # for a number it calls impossible, say which way libphonenumber finds it so.
        if re.search(r"[A-Za-z]", text) or not any(ch.isdigit() for ch in text):
            raise
        parsed = _parse(text, region)
        if parsed is None:
            if text.startswith(("+", "00")):
                raise NormalizationError(
                    _(_IMPOSSIBLE[phonenumbers.ValidationResult.INVALID_COUNTRY_CODE])
                    % {"value": shown}
                ) from None
            raise
        reason = _IMPOSSIBLE.get(phonenumbers.is_possible_number_with_reason(parsed))
        if reason is None:
            raise
        raise NormalizationError(
            _(reason) % {"value": shown, "country": _country(parsed, region)}
            + _national_hint(parsed, region)
        ) from None
    parsed = phonenumbers.parse(number.e164)
    if not phonenumbers.is_valid_number(parsed):
        read = _parse(text, region) or parsed
        raise NormalizationError(
            _(
                "%(value)s is not a valid number of %(country)s: its length is possible, "
                "but no area code or range of that country begins so."
            )
            % {"value": shown, "country": _country(read, region)}
            + _national_hint(read, region)
        )
    extension = extension or number.extension or ""
    if len(extension) > EXTENSION_MAX:
        raise NormalizationError(
            _("%(value)s has an extension longer than %(max)d digits.")
            % {"value": shown, "max": EXTENSION_MAX}
        )
    return PhoneNumber(e164=number.e164, extension=extension or None)
