"""Errors of the moderation console, in the :mod:`directory.exceptions` hierarchy."""

from __future__ import annotations

from rest_framework import status

from directory.exceptions import WorldbookError


class TooManyReports(WorldbookError):
    """The reporter filed ``MODERATION_REPORTS_PER_DAY`` reports in the last 24 hours.

    Counted in the database (not the cache), so the limit holds across restarts.
    """

    status = status.HTTP_429_TOO_MANY_REQUESTS
    slug = "too-many-reports"
    title = "Too many reports"
