"""Web pages: the home page with the search box, and the results page."""

from __future__ import annotations

import math
from dataclasses import dataclass
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from directory.display import handle_display, service_name
from directory.exceptions import WorldbookError
from directory.models import Entry, Handle
from directory.replicas import replica_reads
from search.documents import public_verified_handles
from search.selectors import search_entries
from search.text import ParsedQuery, highlight, parse_query
from search.throttling import search_page_wait

PAGE_SIZE = 20
PAGE_MAX = 50


@dataclass(frozen=True)
class Badge:
    """A verified external handle as the results show it: the network's name and the handle
    as people write it (directory.display), matches marked; ``handle`` gives the verified
    mark its dates, or its "Demo" badge (``components/verified_mark.html``)."""

    service: str
    value: SafeString
    handle: Handle


@dataclass(frozen=True)
class ResultRow:
    """One result: the entry, and its nickname and handle as HTML with matches marked."""

    entry: Entry
    nickname: SafeString
    handle: SafeString
    badges: list[Badge]


def _rows(entries: list[Entry], parsed: ParsedQuery) -> list[ResultRow]:
    return [
        ResultRow(
            entry=entry,
            nickname=highlight(entry.nickname, parsed),
            handle=highlight(entry.handle, parsed, whole=True),
            badges=[
                Badge(
                    service_name(handle.kind),
                    highlight(handle_display(handle), parsed, whole=True),
                    handle,
                )
                for handle in public_verified_handles(entry)
            ],
        )
        for entry in entries
    ]


def _page_number(raw: str) -> int:
    try:
        page = int(raw)
    except ValueError:
        raise WorldbookError(_("The page number must be a whole number.")) from None
    if not 1 <= page <= PAGE_MAX:
        raise WorldbookError(
            _("Pages go from 1 to %(max)d; refine the search instead.") % {"max": PAGE_MAX}
        )
    return page


def _page_url(query: str, page: int) -> str:
    return f"{reverse('search')}?{urlencode({'q': query, 'page': page})}"


@replica_reads
@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """``GET /``: what Worldbook is, and the search box."""
    return render(request, "search/home.html", {"query": ""})


@replica_reads
@require_safe
def search(request: HttpRequest) -> HttpResponse:
    """``GET /search?q=…&page=N``: one page of results, best first.

    With ``partial=1`` only the results fragment is sent, for search-as-you-type. A query
    or page number that cannot be served answers 400 with the reason on the page. Requests
    count against the API's search rates (:func:`search.throttling.search_page_wait`);
    over them the page (or the fragment) answers 429 with a short message and
    ``Retry-After``.
    """
    query = request.GET.get("q", "")
    partial = request.GET.get("partial") == "1"
    context: dict[str, object] = {"query": query, "partial": partial}
    template = "search/_results.html" if partial else "search/results.html"
    wait = search_page_wait(request)
    if wait is not None:
        context["error"] = _("Too many searches; try again in %(wait)d seconds.") % {"wait": wait}
        response = render(request, template, context, status=429)
        response["Retry-After"] = str(wait)
        return response
    status = 200
    try:
        page = _page_number(request.GET.get("page", "1"))
        parsed = parse_query(query)
        if not parsed.is_empty:
            results = search_entries(
                query, caller=request.user, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE
            )
            pages = max(1, math.ceil(results.total / PAGE_SIZE))
            context.update(
                searched=True,
                total=results.total,
                rows=_rows(results.entries, parsed),
                page=page,
                pages=pages,
                previous_url=_page_url(query, page - 1) if page > 1 else None,
                next_url=_page_url(query, page + 1) if page < min(pages, PAGE_MAX) else None,
            )
    except WorldbookError as exc:
        context["error"] = exc.detail
        status = exc.status
    return render(request, template, context, status=status)
