"""Owner pages: the entry a signed-in person manages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from directory.models import Entry


@login_required
def my_entry(request: HttpRequest) -> HttpResponse:
    """``GET /account/my-entry``: "My entry" in the header.

    Redirects to the page of the person's entry when they have exactly one, to their
    account page (which lists them) when they have several, and to the account page's
    invitation to create one when they have none.
    """
    handles = list(
        Entry.objects.filter(owner=request.user).values_list("handle_canonical", flat=True)[:2]
    )
    if len(handles) == 1:
        return redirect("entry", handle=handles[0])
    return redirect("accounts:home")
