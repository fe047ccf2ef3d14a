"""An entry as a vCard 4.0 (RFC 6350), holding only what the caller may see.

The card is built and serialized with ``vobject``. vobject is a vCard 3.0 library at
heart, so three things are set by hand: ``VERSION:4.0``; URI values (``TEL;VALUE=uri``,
``IMPP``, ``UID``…) are marked as already encoded, because RFC 6350 §3.4 text escaping
would turn ``tel:+1…;ext=5`` into ``tel:+1…\\;ext=5``; and long lines are re-folded at 75
octets (RFC 6350 §3.2), because vobject measures short lines in characters, so a line of
40 Cyrillic letters (80 octets) would leave unfolded.
"""

from __future__ import annotations

import uuid
from datetime import UTC

import vobject
from django.conf import settings

from directory.display import (
    endpoint_matrix_uri,
    entry_page_url,
    entry_vcard_url,
    handles_for,
    service_name,
)
from directory.models import Endpoint, Entry
from directory.policy import visible_endpoints

VCARD_CONTENT_TYPE = "text/vcard; charset=utf-8"
PRODID = "-//Worldbook//Worldbook directory//EN"
LINE_OCTETS = 75

# RFC 6350 §6.4.1 TYPE values for TEL, besides the capabilities.
_TEL_TYPES = {"cell", "fax", "pager", "textphone"}
# RFC 6350 §5.6 TYPE values any property may carry.
_WHERE_TYPES = {"home", "work"}
# Services reached through https links that are instant messaging networks.
MESSAGING_LINK_SERVICES = {"whatsapp", "signal", "telegram", "matrix"}


def entry_uid(entry: Entry) -> str:
    """The entry's vCard UID (RFC 6350 §6.7.6): ``urn:uuid:`` + a UUID version 5.

    The UUID is derived from the directory's domain and the entry's primary key, so it
    stays the same when the entry changes its handle and an address book can still
    match the card it imported before.
    """
    namespace = uuid.uuid5(uuid.NAMESPACE_DNS, settings.WORLDBOOK_DOMAIN)
    return f"urn:uuid:{uuid.uuid5(namespace, f'entry/{entry.pk}')}"


def _uri_line(card, name: str, value: str, params: dict[str, list[str]], group: str | None):
    line = card.add(name, group=group)
    line.value = value
    line.encoded = True
    for key, values in params.items():
        if values:
            line.params[key] = values
    return line


def _label_types(label: str, allowed: set[str]) -> tuple[list[str], str | None]:
    """Split an endpoint label into RFC 6350 TYPE tokens and a free-form label."""
    word = label.strip().lower()
    word = "cell" if word == "mobile" else word
    if word in allowed:
        return [word], None
    return [], (label.strip() or None)


def _add_endpoint(card, endpoint: Endpoint, pref: int, group_no: list[int]) -> None:
    scheme = endpoint.scheme
    allowed = _WHERE_TYPES | _TEL_TYPES if scheme == "tel" else _WHERE_TYPES
    types, free_label = _label_types(endpoint.label, allowed)
    group = None
    if free_label:
        # A label that is not an RFC 6350 TYPE travels as the de facto X-ABLabel of a
        # property group, which address books read as the label of that one property.
        group_no[0] += 1
        group = f"item{group_no[0]}"
    params: dict[str, list[str]] = {"PREF": [str(min(pref, 100))]}
    matrix_uri = endpoint_matrix_uri(endpoint) if endpoint.service == "matrix" else None
    if scheme == "tel":
        types += [c for c in ("voice", "video", "text") if getattr(endpoint, c)]
        params.update({"VALUE": ["uri"], "TYPE": types})
        _uri_line(card, "TEL", endpoint.uri, params, group)
    elif scheme == "mailto":
        line = card.add("email", group=group)
        line.value = endpoint.uri[len("mailto:") :]
        params["TYPE"] = types
        line.params.update({k: v for k, v in params.items() if v})
    elif (
        scheme in ("sip", "sips", "xmpp", "facetime", "facetime-audio")
        or matrix_uri
        or (scheme == "https" and endpoint.service in MESSAGING_LINK_SERVICES)
    ):
        params.update({"TYPE": types, "SERVICE-TYPE": [service_name(endpoint.service)]})
        _uri_line(card, "IMPP", matrix_uri or endpoint.uri, params, group)
    else:
        # Call links (Jitsi, Zoom, …) are web addresses that open a call.
        params["TYPE"] = types
        _uri_line(card, "URL", endpoint.uri, params, group)
    if group:
        card.add("x-ablabel", group=group).value = free_label


def _refold(text: str) -> str:
    out: list[str] = []
    for line in text.split("\r\n"):
        data = line.encode("utf-8")
        if len(data) <= LINE_OCTETS:
            out.append(line)
            continue
        chunk = ""
        size = 0
        for ch in line:
            width = len(ch.encode("utf-8"))
            if size + width > LINE_OCTETS:
                out.append(chunk)
                chunk, size = " ", 1
            chunk += ch
            size += width
        out.append(chunk)
    return "\r\n".join(out)


def entry_vcard(entry: Entry, caller=None) -> str:
    """Serialize ``entry`` as a vCard 4.0 for ``caller`` (a user, anonymous, or ``None``).

    Input: an entry with ``handles`` and ``endpoints`` prefetched. Output: the vCard text
    (CRLF line ends, folded at 75 octets) with VERSION 4.0, PRODID, UID (stable
    ``urn:uuid:``), KIND, FN, NICKNAME, URL of the entry page, SOURCE, REV, and:

    - the endpoints :func:`directory.policy.visible_endpoints` grants ``caller``, in
      preference order with PREF 1, 2, 3…: ``TEL;VALUE=uri`` (RFC 6350 §6.4.1) for
      ``tel:``, EMAIL for ``mailto:``, IMPP (RFC 4770) with SERVICE-TYPE for SIP, XMPP,
      Matrix (as ``matrix:u/…``), FaceTime and messaging links, URL for other call links;
      TYPE from labels such as ``home``/``work``/``cell`` and ``X-ABLabel`` for others;
    - SOCIALPROFILE (RFC 9554 §3.5) with SERVICE-TYPE for each *verified* external
      handle (never for claims; phone numbers only for the owner), plus the directory
      handle.

    Raises nothing for a well-formed entry; visibility is the caller's job
    (:func:`directory.selectors.entry_get_by_handle`).
    """
    card = vobject.vCard()
    card.add("version").value = "4.0"
    card.add("prodid").value = PRODID
    _uri_line(card, "UID", entry_uid(entry), {}, None)
    card.add("kind").value = "individual"
    card.add("fn").value = entry.nickname
    card.add("nickname").value = entry.nickname
    page_url = entry_page_url(entry)
    _uri_line(card, "URL", page_url, {"PREF": ["1"]}, None)
    _uri_line(card, "SOURCE", entry_vcard_url(entry), {}, None)
    handles = handles_for(entry, caller, verified_only=True)
    endpoints = visible_endpoints(entry, caller)
    # REV: the last change to what this card shows, and to nothing the caller may not see.
    revised = max(
        [entry.updated_at]
        + [view.handle.updated_at for view in handles]
        + [endpoint.updated_at for endpoint in endpoints]
    )
    card.add("rev").value = revised.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    _uri_line(
        card,
        "SOCIALPROFILE",
        page_url,
        {"SERVICE-TYPE": ["Worldbook"], "USERNAME": [entry.at_handle]},
        None,
    )
    for view in handles:
        if view.uri:
            _uri_line(card, "SOCIALPROFILE", view.uri, {"SERVICE-TYPE": [view.service]}, None)
        else:
            line = card.add("socialprofile")
            line.value = view.display
            line.params.update({"VALUE": ["text"], "SERVICE-TYPE": [view.service]})
    group_no = [0]
    for rank, endpoint in enumerate(endpoints, start=1):
        _add_endpoint(card, endpoint, rank, group_no)
    return _refold(card.serialize(lineLength=LINE_OCTETS))
