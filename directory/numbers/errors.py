"""Errors of the phone-number features, each mapped to an RFC 9457 problem document."""

from __future__ import annotations

from directory.exceptions import WorldbookError


class CodeInvalid(WorldbookError):
    """The code is wrong, expired, already used, or none was sent."""

    slug = "number-code-invalid"
    title = "The code is not valid"


class LimitReached(WorldbookError):
    """A database-kept limit (sends, wrong codes, lookups, discovery) holds."""

    status = 429
    slug = "limit-reached"
    title = "Limit reached"


class NumberStateError(WorldbookError):
    """The number is not in a state that allows this change."""

    status = 409
    slug = "number-state"
    title = "The number cannot change that way"
