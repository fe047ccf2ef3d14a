"""Errors of the verification pipeline.

:class:`ProofUnreachable` and :class:`ProofRefused` are raised while a proof is fetched
and never reach a caller: a check records them in plain words. The others are
:class:`~directory.exceptions.WorldbookError` subclasses, so the API answers them with
RFC 9457 problem details.
"""

from __future__ import annotations

from rest_framework import status

from directory.exceptions import WorldbookError


class FetchFailed(Exception):
    """A proof could not be read; ``reason`` says why in plain words."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class ProofUnreachable(FetchFailed):
    """A transient failure (timeout, 5xx, DNS SERVFAIL): retried, counted as unreachable."""


class ProofRefused(FetchFailed):
    """A fetch Worldbook will not make or finish: a non-public address, a redirect too
    many, a scheme other than https, an answer that cannot be read."""


class VerificationUnavailable(WorldbookError):
    """The handle cannot be verified the way asked."""

    slug = "verification-unavailable"
    title = "This handle cannot be verified that way"


class CodeRejected(WorldbookError):
    """An email code that is wrong, used, expired or tried too often."""

    status = status.HTTP_400_BAD_REQUEST
    slug = "verification-code-rejected"
    title = "The code was not accepted"


class CodeMalformed(WorldbookError):
    """Something that cannot be an email code (not the right number of digits); it does
    not use up a try."""

    status = status.HTTP_400_BAD_REQUEST
    slug = "verification-code-malformed"
    title = "That is not a code"


class DemoDataDisabled(WorldbookError):
    """A demo verification was asked for on a site whose ``DEMO_DATA`` setting is off."""

    status = status.HTTP_403_FORBIDDEN
    slug = "demo-data-disabled"
    title = "Demo data is switched off"
