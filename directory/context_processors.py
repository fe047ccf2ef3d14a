"""Template context shared by every page."""

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, str]:
    """Give templates the public site URL and the directory's acct: domain."""
    return {"SITE_URL": settings.SITE_URL, "WORLDBOOK_DOMAIN": settings.WORLDBOOK_DOMAIN}
