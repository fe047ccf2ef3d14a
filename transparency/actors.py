"""Who made a binding change: the signed-in account of the request being served, if any.

:class:`ActorMiddleware` keeps the request in a context variable while its view runs, so a
binding record queued by a model signal (:mod:`transparency.bindings`) can note the account
that made the change. ``request.user`` is read when the change is made: by then Django
REST framework has set it from a bearer token too (its ``Request.user`` also sets the
underlying request's). Changes made outside a request (Celery tasks, commands) have none.
"""

from __future__ import annotations

from contextvars import ContextVar

_request: ContextVar = ContextVar("transparency_request", default=None)


class ActorMiddleware:
    """Keep the current request where :func:`current_user_id` finds it."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        token = _request.set(request)
        try:
            return self.get_response(request)
        finally:
            _request.reset(token)


def current_user_id() -> int | None:
    """The id of the account the current request is signed in as, or None."""
    request = _request.get()
    user = getattr(request, "user", None) if request is not None else None
    if user is None or not user.is_authenticated:
        return None
    return user.pk
