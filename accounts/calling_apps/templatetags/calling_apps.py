"""Template filters of the calling-app pages and the OAuth consent page."""

from __future__ import annotations

from urllib.parse import urlsplit

from django import template

register = template.Library()


@register.filter
def url_host(uri: str) -> str:
    """The host (and port, when one is given) of ``uri``, as RFC 3986 §3.2 reads it;
    for a URI without an authority (a private-use scheme such as ``com.example.app:/cb``,
    RFC 8252 §7.1) its scheme followed by ``:``. An empty string for an empty or
    unreadable value. Used to name plainly where a consent sends the person."""
    try:
        parts = urlsplit(str(uri or "").strip())
        host = parts.hostname
        port = parts.port
    except ValueError:
        return ""
    if host:
        return f"{host}:{port}" if port else host
    return f"{parts.scheme}:" if parts.scheme else ""


@register.filter
def developer_name(user) -> str:
    """How a consent page names an app's developer: the nickname and directory handle of
    their first active entry, which anyone can look up; without one, their full name with
    their email address when both are known, else whichever is known (the username at
    worst)."""
    if user is None:
        return ""
    entry = (
        user.entries.filter(status="active").order_by("created_at", "id").first()
        if hasattr(user, "entries")
        else None
    )
    if entry is not None:
        return f"{entry.nickname} (@{entry.handle})"
    name = (user.get_full_name() if hasattr(user, "get_full_name") else "").strip()
    email = (getattr(user, "email", "") or "").strip()
    if name and email:
        return f"{name} <{email}>"
    return name or email or user.get_username()
