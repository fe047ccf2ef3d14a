"""Public pages of the directory: the entry page, its vCard, WebFinger.

Each view reads through :mod:`directory.selectors`, which applies the contact policy, and
answers a hidden entry exactly as a missing one. The views are rate-limited per client
address with ``django-ratelimit`` (counters in the Django cache, which the processes
share: Redis, or files under the var folder).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_safe
from django_ratelimit.core import get_usage as _get_usage

from accounts.models import Contact
from directory.answers import webfinger_answer
from directory.cache import with_local_fallback
from directory.display import (
    endpoint_display,
    entry_api_url,
    entry_page_url,
    entry_vcard_url,
    handles_for,
    service_name,
)
from directory.exceptions import PROBLEM_CONTENT_TYPE, NotFound, problem
from directory.models import Endpoint, Entry
from directory.policy import caller_is_owner, visible_endpoints
from directory.replicas import replica_reads
from directory.selectors import entry_get_by_handle
from directory.vcard_export import MESSAGING_LINK_SERVICES, VCARD_CONTENT_TYPE, entry_vcard
from directory.webfinger import (
    JRD_CONTENT_TYPE,
    MalformedResource,
    endpoint_property,
    endpoint_rel,
    resource_handle,
)

# Counted per process while Redis is down (directory.cache.with_local_fallback).
get_usage = with_local_fallback(_get_usage)

View = Callable[..., HttpResponse]


def _microformat(endpoint: Endpoint) -> str:
    """The h-card (microformats2) property an endpoint link stands for."""
    if endpoint.scheme == "tel":
        return "p-tel"
    if endpoint.scheme == "mailto":
        return "u-email"
    if endpoint.scheme == "https" and endpoint.service not in MESSAGING_LINK_SERVICES:
        return "u-url"
    return "u-impp"


def _public_rate(group: str, request: HttpRequest) -> str:
    return settings.PUBLIC_RATE_LIMIT


def rate_limited(answer: Callable[[HttpRequest, int], HttpResponse]) -> Callable[[View], View]:
    """Limit a public view to ``settings.PUBLIC_RATE_LIMIT`` requests per client address.

    ``answer(request, retry_after_seconds)`` builds the 429 response (RFC 6585 §4) for
    that view, which carries ``Retry-After`` (RFC 9110 §10.2.3). IPv6 clients are
    counted per /64, as django-ratelimit does by default. A limit, not a security
    control: the counters live in the cache.
    """

    def decorate(view: View) -> View:
        group = f"{view.__module__}.{view.__qualname__}"

        @wraps(view)
        def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            usage = get_usage(request, group=group, key="ip", rate=_public_rate, increment=True)
            if usage is not None and usage["should_limit"]:
                response = answer(request, max(usage["time_left"], 1))
                response["Retry-After"] = str(max(usage["time_left"], 1))
                return response
            return view(request, *args, **kwargs)

        return wrapped

    return decorate


def _page_too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    return render(
        request,
        "directory/error.html",
        {
            "title": "Too many requests",
            "message": f"Please wait {retry_after} seconds before trying again.",
        },
        status=429,
    )


def _problem_json(
    status: int, title: str, detail: str, slug: str, *, cors: bool = False
) -> JsonResponse:
    response = JsonResponse(
        problem(status, title, detail, slug), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
    if cors:
        response["Access-Control-Allow-Origin"] = "*"
    return response


def _webfinger_too_many(request: HttpRequest, retry_after: int) -> HttpResponse:
    return _problem_json(
        429,
        "Too many requests",
        f"Wait {retry_after} seconds before asking again.",
        "rate-limited",
        cors=True,
    )


def _not_found_page(request: HttpRequest) -> HttpResponse:
    # The same page for a missing and a hidden entry: nothing in it depends on which.
    return render(
        request,
        "directory/error.html",
        {"title": "No such entry", "message": "No entry answers to that handle."},
        status=404,
    )


def _save_contact_context(entry: Entry, user) -> dict:
    """What the entry page's "save contact" button needs: whether a signed-in visitor
    (not the owner) has an entry to save with, and whether one of theirs saved it."""
    if not user.is_authenticated or caller_is_owner(entry, user):
        return {"can_save_contact": False, "saved_as_contact": False}
    own = list(Entry.objects.filter(owner=user).values_list("pk", flat=True))
    saved = bool(own) and Contact.objects.filter(owner_id__in=own, saved=entry).exists()
    return {"can_save_contact": bool(own), "saved_as_contact": saved}


@replica_reads
@require_safe
@rate_limited(_page_too_many)
def entry_page(request: HttpRequest, handle: str) -> HttpResponse:
    """``GET /@{handle}``: the entry page, or a 301 to ``/@{handle_canonical}``.

    Shows the nickname, the directory handle, the external handles (verified ones with a
    mark saying when they were proved and last checked, or that they are demo data; others
    marked as claims; phone numbers only to the owner) and the endpoints
    :func:`directory.policy.visible_endpoints` grants the signed-in or anonymous caller,
    in preference order. An anonymous visitor is asked to sign in (``sign_in_url``, back
    here after) to save the contact or report the entry. 404 for a missing or hidden
    entry, alike.
    """
    try:
        entry = entry_get_by_handle(handle, caller=request.user)
    except NotFound:
        return _not_found_page(request)
    if handle != entry.handle_canonical:
        return HttpResponsePermanentRedirect(
            reverse("entry", kwargs={"handle": entry.handle_canonical})
        )
    is_owner = caller_is_owner(entry, request.user)
    endpoints = [
        {
            "endpoint": e,
            "href": e.href,
            "display": endpoint_display(e),
            "service": service_name(e.service),
            "capabilities": e.capabilities,
            "microformat": _microformat(e),
        }
        for e in visible_endpoints(entry, request.user)
    ]
    handles = handles_for(entry, request.user)
    entry_path = reverse("entry", kwargs={"handle": entry.handle_canonical})
    context = {
        **_save_contact_context(entry, request.user),
        "sign_in_url": f"{reverse('accounts:login')}?{urlencode({'next': entry_path})}",
        "has_demo_handles": any(h.is_demo for h in handles),
        "entry": entry,
        "is_owner": is_owner,
        "is_suspended": entry.status != Entry.Status.ACTIVE,
        "endpoints": endpoints,
        "handles": handles,
        "rel_me": [h.uri for h in handles if h.is_verified and h.is_https],
        "page_url": entry_page_url(entry),
        "vcard_url": entry_vcard_url(entry),
        "api_url": entry_api_url(entry),
        "webfinger_url": f"{reverse('webfinger')}?{urlencode({'resource': entry.acct_uri})}",
    }
    return render(request, "directory/entry.html", context)


@replica_reads
@require_safe
@rate_limited(_page_too_many)
def entry_vcard_download(request: HttpRequest, handle: str) -> HttpResponse:
    """``GET /@{handle}.vcf``: the entry as a vCard 4.0 (RFC 6350) for this caller.

    ``text/vcard; charset=utf-8`` as an attachment named ``{handle}.vcf`` (RFC 6266).
    Other spellings of the handle are redirected (301) to ``/@{handle_canonical}.vcf``.
    404 for a missing or hidden entry, alike.
    """
    try:
        entry = entry_get_by_handle(handle, caller=request.user)
    except NotFound:
        return _not_found_page(request)
    if handle != entry.handle_canonical:
        return HttpResponsePermanentRedirect(
            reverse("entry-vcard", kwargs={"handle": entry.handle_canonical})
        )
    response = HttpResponse(entry_vcard(entry, request.user), content_type=VCARD_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(
        True, f"{entry.handle_canonical}.vcf"
    )
    return response


@replica_reads
@require_safe
@rate_limited(_webfinger_too_many)
def webfinger(request: HttpRequest) -> HttpResponse:
    """``GET /.well-known/webfinger?resource=…[&rel=…]``: the entry's JRD (RFC 7033).

    ``resource`` is ``acct:{handle}@{WORLDBOOK_DOMAIN}`` or the entry page URL; each
    ``rel`` parameter keeps links of that relation only (§4.3). Answers
    ``application/jrd+json`` with ``Access-Control-Allow-Origin: *`` (§5). Errors
    (§4.2) are RFC 9457 problem documents: 400 when ``resource`` is missing or not a
    URI; 404 for a resource on another domain, unknown, or hidden — the last two alike.
    The answer is the same for every caller: it lists the endpoints anyone may use.
    """
    try:
        handle = resource_handle(request.GET.get("resource"))
        jrd = webfinger_answer(handle)  # entry_jrd(entry) through the answer cache
    except MalformedResource as exc:
        return _problem_json(400, "Bad request", exc.detail, "bad-request", cors=True)
    except NotFound:
        return _problem_json(
            404,
            "Not found",
            "This server holds no information about that resource.",
            "not-found",
            cors=True,
        )
    rels = set(request.GET.getlist("rel"))
    if rels:
        jrd = {**jrd, "links": [link for link in jrd["links"] if link["rel"] in rels]}
    body = jrd
    response = HttpResponse(json.dumps(body, ensure_ascii=False), content_type=JRD_CONTENT_TYPE)
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def endpoint_relation(request: HttpRequest) -> HttpResponse:
    """``GET /ns/endpoint``: what the endpoint link relation and its properties mean.

    The page a WebFinger client finds when it dereferences the relation URI used in
    :func:`directory.webfinger.entry_jrd`.
    """
    return render(
        request,
        "directory/ns_endpoint.html",
        {
            "rel": endpoint_rel(),
            "properties": {
                name: endpoint_property(name)
                for name in ("capabilities", "service", "uri", "preference")
            },
        },
    )
