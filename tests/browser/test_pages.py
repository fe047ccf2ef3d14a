"""Every page of the site in a real headless Chromium at 320, 390 and 1280 px wide: it
answers, it does not scroll sideways, and axe-core finds no serious or critical violation.

The pages are listed in :data:`SITE_PAGES`; a new page is one more line there. The data is
built once per module through the services, then one Chromium visits every page, one
browser context per width (anonymous pages first, then the signed-in ones with the
account's session cookie), and each (page, width) becomes its own test with a message that
names what overflows and which axe rules fail on which elements.

The survey runs in a module-scoped fixture: Playwright's sync API runs an event loop in
this thread while Chromium is open, and Django refuses ORM calls inside one, so all the
data is written before Chromium starts and the database is emptied after it stops.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

import pytest

from tests.browser.checks import (
    Overflow,
    Violation,
    csp_violations,
    measure_overflow,
    run_axe,
    watch_csp,
)
from tests.browser.chromium import chromium_browser
from tests.browser.conftest import require_axe_core

# The django_db mark makes pytest-django set up the test database; the survey writes to it
# outside any test's transaction and empties it afterwards.
pytestmark = [pytest.mark.browser, pytest.mark.django_db]

WIDTHS = (320, 390, 1280)
HEIGHT = 800
SIGN_IN_PATH = "/account/sign-in/"
PASSWORD = "page-survey-pw-1"
REDIRECT_URI = "https://dialer.example/callback"


@dataclass(frozen=True)
class Site:
    """What the survey built, for the paths that depend on it."""

    handle: str  # the signed-in person's entry
    other_handle: str  # someone else's entry, with a verified handle
    app_pk: int  # a calling app the signed-in person registered
    authorize_query: str  # an OAuth2 authorization request for that app
    reset_path: str  # a password-reset link mailed to a third account
    confirm_path: str  # an email-confirmation link for that account
    endpoint_pk: int  # one of the signed-in person's endpoints
    handle_pk: int  # the signed-in person's unverified email handle


@dataclass(frozen=True)
class SitePage:
    """One page of the site: a name for the test id, its path (or a function of the
    :class:`Site` giving it), whether the visitor is signed in, and the status it answers."""

    name: str
    path: str | Callable[[Site], str]
    signed_in: bool = False
    status: int = 200

    def url_path(self, site: Site) -> str:
        return self.path(site) if callable(self.path) else self.path


# Every page a person can reach. Add new pages here.
SITE_PAGES: list[SitePage] = [
    # Anonymous visitors.
    SitePage("home", "/"),
    SitePage("search", "/search?q=Quillfeather"),
    SitePage("search-no-results", "/search?q=zzzzzzzz"),
    SitePage("entry", lambda site: f"/@{site.other_handle}"),
    SitePage("not-found", "/@nobody-by-this-name", status=404),
    # Sign-out takes only POST: a link to it gets the 405 page.
    SitePage("method-not-allowed", "/account/sign-out/", status=405),
    SitePage("sign-in", SIGN_IN_PATH),
    SitePage("sign-up", "/account/sign-up/"),
    SitePage("password-reset", "/account/password-reset/"),
    SitePage("password-reset-sent", "/account/password-reset/sent/"),
    SitePage("password-reset-new-password", lambda site: site.reset_path),
    SitePage("password-reset-done", "/account/password-reset/done/"),
    SitePage("confirm-email", lambda site: site.confirm_path),
    # Signed-in people.
    SitePage("account", "/account/", signed_in=True),
    SitePage("home-signed-in", "/", signed_in=True),
    SitePage("entry-own", lambda site: f"/@{site.handle}", signed_in=True),
    SitePage("entry-signed-in", lambda site: f"/@{site.other_handle}", signed_in=True),
    SitePage("password-change", "/account/password/", signed_in=True),
    SitePage("contacts", "/account/contacts", signed_in=True),
    SitePage("policy", lambda site: f"/account/entries/{site.handle}/policy", signed_in=True),
    SitePage(
        "verification",
        lambda site: f"/account/entries/{site.handle}/verification",
        signed_in=True,
    ),
    SitePage("data", "/account/data", signed_in=True),
    SitePage("data-delete", "/account/data/delete", signed_in=True),
    SitePage("apps", "/account/apps/", signed_in=True),
    SitePage("apps-register", "/account/apps/new", signed_in=True),
    SitePage("apps-detail", lambda site: f"/account/apps/{site.app_pk}", signed_in=True),
    SitePage("oauth-consent", lambda site: f"/o/authorize/?{site.authorize_query}", signed_in=True),
    SitePage("numbers", "/account/numbers", signed_in=True),
    SitePage("discover", "/discover", signed_in=True),
    SitePage("second-factor-app", "/account/second-factors/app/", signed_in=True),
    SitePage("second-factor-email", "/account/second-factors/email/", signed_in=True),
    SitePage("second-factor-backup-codes", "/account/second-factors/backup-codes/", signed_in=True),
    SitePage("second-factor-passkey", "/account/second-factors/passkey/", signed_in=True),
    SitePage("notices", "/account/notices", signed_in=True),
    SitePage("report", lambda site: f"/moderation/report/@{site.other_handle}", signed_in=True),
    # The owner's pages for their own entry (directory.owner).
    SitePage("my-entry-create", "/account/entries/new", signed_in=True),
    SitePage("my-entry", lambda site: f"/account/entries/{site.handle}/", signed_in=True),
    SitePage("my-entry-edit", lambda site: f"/account/entries/{site.handle}/edit", signed_in=True),
    SitePage(
        "my-entry-delete", lambda site: f"/account/entries/{site.handle}/delete", signed_in=True
    ),
    SitePage(
        "endpoint-add", lambda site: f"/account/entries/{site.handle}/endpoints/new", signed_in=True
    ),
    SitePage(
        "endpoint-edit",
        lambda site: f"/account/entries/{site.handle}/endpoints/{site.endpoint_pk}/edit",
        signed_in=True,
    ),
    SitePage(
        "endpoint-delete",
        lambda site: f"/account/entries/{site.handle}/endpoints/{site.endpoint_pk}/delete",
        signed_in=True,
    ),
    SitePage(
        "handle-add", lambda site: f"/account/entries/{site.handle}/handles/new", signed_in=True
    ),
    SitePage("my-entry-log", lambda site: f"/account/entries/{site.handle}/log", signed_in=True),
    SitePage(
        "proof",
        lambda site: f"/account/entries/{site.handle}/handles/{site.handle_pk}/proof",
        signed_in=True,
    ),
    SitePage(
        "handle-remove",
        lambda site: f"/account/entries/{site.handle}/handles/{site.handle_pk}/remove",
        signed_in=True,
    ),
]


@dataclass(frozen=True)
class Visit:
    """What Chromium found on one page at one width."""

    url: str
    status: int | None
    final_path: str
    overflow: Overflow | None
    violations: tuple[Violation, ...]
    csp_violations: tuple[str, ...]


def _build_site() -> tuple[Site, str]:
    """Write the survey's data through the services; return it with the signed-in
    person's session key."""
    from django.contrib.auth.models import Group
    from django.contrib.auth.tokens import default_token_generator
    from django.test import Client
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    from accounts.calling_apps.services import app_register
    from accounts.contacts import contact_save
    from accounts.emails import confirmation_token
    from accounts.models import User
    from directory.moderation.services.actions import endpoint_hide
    from directory.moderation.tests.fixtures import ensure_moderator_groups
    from directory.services import endpoint_add, entry_create, handle_add, handle_mark_verified

    ensure_moderator_groups()
    owner = User.objects.create_user("olive", "olive@example.org", PASSWORD)
    other = User.objects.create_user("otto", "otto@example.org", PASSWORD)
    newcomer = User.objects.create_user("nell", "nell@example.org", PASSWORD)
    moderator = User.objects.create_user("mona", "mona@example.org", PASSWORD, is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))

    entry = entry_create(nickname="Olive Quillfeather", handle="olive", owner=owner)
    handle_mark_verified(
        handle=handle_add(entry=entry, kind="web", raw="https://olive.example.org/")
    )
    email = handle_add(entry=entry, kind="email", raw="olive@example.org")
    sip = endpoint_add(
        entry=entry, uri="sip:olive@sip.example.org", preference=10, label="Desk phone"
    )
    endpoint_add(
        entry=entry,
        uri="https://meet.example.org/olive-quillfeather-weekly-standup-room",
        preference=20,
        audience="signed_in",
    )
    hidden = endpoint_add(entry=entry, uri="xmpp:olive@chat.example.org", preference=30)
    endpoint_hide(endpoint=hidden, moderator=moderator, reason="Sends unsolicited messages.")

    theirs = entry_create(nickname="Otto Quillfeather", handle="otto", owner=other)
    handle_mark_verified(handle=handle_add(entry=theirs, kind="github", raw="otto-q"))
    handle_mark_verified(
        handle=handle_add(entry=theirs, kind="web", raw="https://otto-quillfeather.example.org/")
    )
    handle_add(entry=theirs, kind="email", raw="otto.quillfeather@example.org")
    endpoint_add(entry=theirs, uri="mailto:otto.quillfeather@example.org", preference=10)
    endpoint_add(entry=theirs, uri="matrix:u/otto:matrix.example.org", preference=20, label="chat")
    endpoint_add(entry=theirs, uri="tel:+1-555-555-0100;ext=12", preference=30, label="mobile")
    contact_save(owner=entry, saved=theirs, note="Met at the conference")

    # Long words that cannot break at a space: the pages must wrap them, not scroll.
    long_word = "Bartholomew" * 6
    endpoint_add(entry=entry, uri=f"sip:{long_word.lower()}@sip.example.org", label="Ω" * 40)
    handle_add(entry=entry, kind="web", raw=f"https://olive.example.org/{'p' * 120}")
    handle_add(entry=entry, kind="domain", raw=f"{'a' * 60}.example")
    endpoint_add(entry=theirs, uri="sip:otto@sip.example.org", preference=40, label="Ω" * 40)
    long_user = User.objects.create_user("petra", "petra@example.org", PASSWORD)
    entry_create(nickname=f"Petra {long_word} Quillfeather", handle="petra", owner=long_user)
    app_register(
        developer=owner,
        name="Quillfeather " + "Ü" * 60,
        client_type="public",
        grant_types={"authorization-code"},
        redirect_uris=[REDIRECT_URI + "/" + "y" * 100],
    )

    app = app_register(
        developer=owner,
        name="Quillfeather Dialer",
        client_type="public",
        grant_types={"authorization-code"},
        redirect_uris=[REDIRECT_URI],
    ).app
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest())
        .rstrip(b"=")
        .decode("ascii")
    )
    authorize_query = urlencode(
        {
            "response_type": "code",
            "client_id": app.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "lookup",
            "state": "st4te",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    uid = urlsafe_base64_encode(force_bytes(newcomer.pk))
    site = Site(
        handle=entry.handle,
        other_handle=theirs.handle,
        app_pk=app.pk,
        authorize_query=authorize_query,
        reset_path=f"/account/password-reset/{uid}/{default_token_generator.make_token(newcomer)}/",
        confirm_path=f"/account/confirm-email/{confirmation_token(newcomer)}/",
        endpoint_pk=sip.pk,
        handle_pk=email.pk,
    )
    client = Client()
    client.force_login(owner)
    return site, client.cookies["sessionid"].value


def _visit(page, base: str, site: Site, spec: SitePage) -> Visit:
    url = base + spec.url_path(site)
    response = page.goto(url)
    return Visit(
        url=url,
        status=response.status if response else None,
        final_path=urlsplit(page.url).path,
        overflow=measure_overflow(page),
        violations=tuple(run_axe(page)),
        csp_violations=csp_violations(page),
    )


def _survey(base: str, site: Site, session_key: str) -> dict[tuple[str, int], Visit]:
    visits: dict[tuple[str, int], Visit] = {}
    ordered = sorted(SITE_PAGES, key=lambda spec: spec.signed_in)
    with chromium_browser() as browser:
        for width in WIDTHS:
            context = browser.new_context(viewport={"width": width, "height": HEIGHT})
            watch_csp(context)
            page = context.new_page()
            signed_in = False
            for spec in ordered:
                if spec.signed_in and not signed_in:
                    context.add_cookies([{"name": "sessionid", "value": session_key, "url": base}])
                    signed_in = True
                visits[spec.name, width] = _visit(page, base, site, spec)
            context.close()
    return visits


@pytest.fixture(scope="module")
def survey(django_db_setup, django_db_blocker) -> dict[tuple[str, int], Visit]:
    """Build the data, visit every page of :data:`SITE_PAGES` at every width, empty the
    database; the visits by (page name, width)."""
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import override_settings
    from pytest_django.live_server_helper import LiveServer

    require_axe_core()
    with (
        django_db_blocker.unblock(),
        override_settings(
            ALLOWED_HOSTS=["127.0.0.1"],
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],
        ),
    ):
        cache.clear()
        # What the migrations wrote (role groups and their permissions), put back after
        # the flush so that later tests find the database as migrated.
        migrated = connection.creation.serialize_db_to_string()
        try:
            site, session_key = _build_site()
            server = LiveServer("127.0.0.1:0")
            try:
                return _survey(server.url, site, session_key)
            finally:
                server.stop()
        finally:
            call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)
            connection.creation.deserialize_db_from_string(migrated)
            cache.clear()


CASES = [
    pytest.param(spec, width, id=f"{spec.name}-{width}") for spec in SITE_PAGES for width in WIDTHS
]


@pytest.mark.parametrize("spec", [pytest.param(spec, id=spec.name) for spec in SITE_PAGES])
def test_it_answers_the_page_itself(survey, spec):
    for width in WIDTHS:
        visit = survey[spec.name, width]
        assert visit.status == spec.status, f"{visit.url} answered {visit.status} at {width} px"
        assert visit.final_path != SIGN_IN_PATH or spec.path == SIGN_IN_PATH, (
            f"{visit.url} sent the visitor to sign in at {width} px"
        )


@pytest.mark.parametrize(("spec", "width"), CASES)
def test_it_fits_the_window(survey, spec, width):
    visit = survey[spec.name, width]
    assert visit.overflow is None, f"{visit.url} scrolls sideways: {visit.overflow}"


@pytest.mark.parametrize(("spec", "width"), CASES)
def test_it_has_no_serious_accessibility_violation(survey, spec, width):
    visit = survey[spec.name, width]
    assert not visit.violations, f"{visit.url} at {width} px: axe-core violations:\n" + "\n".join(
        f"  {violation}" for violation in visit.violations
    )


@pytest.mark.parametrize(("spec", "width"), CASES)
def test_it_breaks_no_content_security_policy(survey, spec, width):
    visit = survey[spec.name, width]
    assert not visit.csp_violations, f"{visit.url} at {width} px: CSP violations:\n" + "\n".join(
        f"  {violation}" for violation in visit.csp_violations
    )
