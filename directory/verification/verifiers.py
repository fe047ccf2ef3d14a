"""Verifiers: one interface, one class per method.

A verifier reads a proof and says what it found; it writes nothing. Every network read
goes through :func:`directory.verification.fetch.fetch` (HTTPS) or
:mod:`directory.verification.resolver` (DNS). Transient failures propagate as
:class:`ProofUnreachable`; everything else becomes an :class:`Outcome` with the reason in
plain words. The normal forms compared are in :mod:`directory.verification.matching`.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import ClassVar
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.utils.translation import gettext as _

from directory.models import Handle
from directory.normalization import HandleKind
from directory.verification import resolver
from directory.verification.errors import ProofRefused, ProofUnreachable
from directory.verification.fetch import FetchResult, fetch
from directory.verification.matching import (
    parse_page,
    text_holds_token,
    url_normal_form,
    value_is_token,
)
from directory.verification.models import Method, VerificationChallenge, VerificationCheck

Result = VerificationCheck.Result


@dataclass
class Outcome:
    """What a verifier found: ``result`` (a :class:`VerificationCheck.Result`), ``reason``
    in plain words for the owner, ``evidence`` (JSON-ready: fetched URLs, statuses,
    values found and expected)."""

    result: str
    reason: str
    evidence: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Value:
    """A value the owner publishes exactly as shown: ``label`` names it ("TXT value"),
    ``value`` is the text to copy."""

    label: str
    value: str


@dataclass(frozen=True)
class Step:
    """One step of a proof, as the proof page numbers them: ``title`` says what to do,
    ``text`` where and how in plain words, ``values`` what to publish (each shown with a
    Copy button). ``alternative`` marks a step that replaces the one before it ("or")."""

    title: str
    text: str = ""
    values: tuple[Value, ...] = ()
    alternative: bool = False


def profile_link(handle: Handle) -> str:
    """The ``rel="me"`` link to the entry's page that website and fediverse proofs look
    for (HTML Living Standard, link type "me")."""
    return f'<a rel="me" href="{handle.entry.profile_url}">Worldbook</a>'


def _keep_step() -> Step:
    return Step(
        _("Press “Check now”"),
        _(
            "Worldbook reads your proof within a minute. Leave it published: Worldbook checks "
            "it again from time to time, and a proof missing at two checks in a row is revoked."
        ),
    )


class Verifier(ABC):
    """One way of proving a handle.

    ``method`` is its :class:`Method`, ``kinds`` the handle kinds it proves. ``check``
    takes the handle and the challenge being proved and returns an :class:`Outcome`;
    ``fresh`` asks DNS afresh (no cache), as "check now" does.
    """

    method: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]

    def __init__(self, *, fresh: bool = False):
        self.fresh = fresh
        self.fetched: list[dict] = []

    @abstractmethod
    def check(self, handle: Handle, challenge: VerificationChallenge) -> Outcome:
        """Read the proof of ``handle`` for ``challenge``; raise ProofUnreachable when the
        platform did not answer."""

    def instructions(self, handle: Handle, challenge: VerificationChallenge) -> str:
        """What the owner must publish, in one plain sentence (the API's ``instructions``)."""
        return _("Publish %(token)s where this method looks for it.") % {"token": challenge.token}

    def steps(self, handle: Handle, challenge: VerificationChallenge) -> list[Step]:
        """What the owner must publish and where, step by step (:class:`Step`), with the
        exact values :meth:`check` looks for. The default publishes the token."""
        return [
            Step(
                _("Publish the token"),
                self.instructions(handle, challenge),
                (Value(_("Token"), challenge.token),),
            ),
            _keep_step(),
        ]

    # helpers ---------------------------------------------------------------------------

    def get(self, url: str, *, accept: str = "text/html", credentials=None) -> FetchResult:
        try:
            result = fetch(url, fresh=self.fresh, accept=accept, credentials=credentials)
        except ProofRefused as exc:
            self.fetched.append({"url": url, "refused": exc.reason})
            raise
        except ProofUnreachable as exc:
            self.fetched.append({"url": url, "unreachable": exc.reason})
            raise
        self.fetched.append(result.evidence())
        return result

    def get_json(self, url: str, *, accept: str = "application/json", credentials=None):
        """Fetch ``url`` and parse JSON; ``None`` for 404/410; ProofRefused otherwise
        when the answer is not JSON."""
        result = self.get(url, accept=accept, credentials=credentials)
        if result.status in (404, 410):
            return None
        if result.status >= 400:
            raise ProofRefused(f"{url} answered {result.status}")
        if result.truncated:
            raise ProofRefused(f"{url} sent more than 1 MiB of JSON")
        try:
            return json.loads(result.body)
        except ValueError:
            raise ProofRefused(f"{url} did not answer with JSON") from None

    def outcome(self, result: str, reason: str, **evidence) -> Outcome:
        return Outcome(result, reason, {"fetched": self.fetched, **evidence})


def _rel_me_outcome(verifier: Verifier, page_url: str, expected: str) -> Outcome:
    page = verifier.get(page_url)
    if page.status >= 400:
        return verifier.outcome(
            Result.MISSING, f"{page.url} answered {page.status}; no page to read.",
            expected=expected,
        )  # fmt: skip
    links, _ = parse_page(page.text, page.url)
    normal = [url_normal_form(link) for link in links]
    if expected in normal:
        return verifier.outcome(
            Result.VERIFIED, f'{page.url} links to {expected} with rel="me".',
            found=links, expected=expected, truncated=page.truncated,
        )  # fmt: skip
    if links:
        shown = ", ".join(links[:3]) + (" …" if len(links) > 3 else "")
        return verifier.outcome(
            Result.MISMATCH, f"found a link to {shown}, expected {expected}",
            found=links, expected=expected, truncated=page.truncated,
        )  # fmt: skip
    return verifier.outcome(
        Result.MISSING, f'found no rel="me" link on {page.url}, expected one to {expected}',
        found=[], expected=expected, truncated=page.truncated,
    )  # fmt: skip


class RelMeVerifier(Verifier):
    """A website proves itself with a ``rel="me"`` link back to the entry's page."""

    method = Method.REL_ME
    kinds = (HandleKind.WEB,)

    def check(self, handle, challenge):
        expected = url_normal_form(handle.entry.profile_url)
        url = handle.canonical
        if not url.startswith("https://"):
            return self.outcome(Result.REFUSED, f"{url} is not an https address.")
        return _rel_me_outcome(self, url, expected)

    def instructions(self, handle, challenge):
        return _(
            'Put a link to %(profile)s with rel="me" on %(page)s, for example %(link)s.'
        ) % {"profile": handle.entry.profile_url, "page": handle.canonical,
             "link": profile_link(handle)}  # fmt: skip

    def steps(self, handle, challenge):
        return [
            Step(
                _("Link your website to your Worldbook page"),
                _(
                    "Paste this link into the page at %(page)s, anywhere in its HTML (a "
                    '<link rel="me" href="…"> in its head works too). The link must carry '
                    'rel="me" and point at your Worldbook page.'
                )
                % {"page": handle.canonical},
                (
                    Value(_("Link to paste"), profile_link(handle)),
                    Value(_("Worldbook page address"), handle.entry.profile_url),
                ),
            ),
            _keep_step(),
        ]


class FediverseVerifier(Verifier):
    """A fediverse account: WebFinger (RFC 7033) gives its profile page, which must hold a
    ``rel="me"`` link back to the entry's page (as Mastodon's verified profile links).

    Servers whose profile page is rendered by script carry the same links in the
    ActivityPub actor (the WebFinger ``self`` link): each profile field of ``attachment``
    (``PropertyValue``) holds HTML whose ``rel="me"`` links are read when the page has none
    that match.
    """

    method = Method.FEDIVERSE
    kinds = (HandleKind.FEDIVERSE,)
    PROFILE_REL = "http://webfinger.net/rel/profile-page"
    ACTOR_TYPE = "application/activity+json"

    def check(self, handle, challenge):
        expected = url_normal_form(handle.entry.profile_url)
        user, _, host = handle.canonical.partition("@")
        resource = f"acct:{user}@{host}"
        jrd = self.get_json(
            f"https://{host}/.well-known/webfinger?resource={quote(resource, safe=':@')}",
            accept="application/jrd+json",
        )
        if not isinstance(jrd, dict):
            return self.outcome(Result.MISSING, f"{host} knows no account {resource} (WebFinger).")
        profiles = [
            link.get("href")
            for link in jrd.get("links") or []
            if isinstance(link, dict)
            and link.get("rel") == self.PROFILE_REL
            and isinstance(link.get("href"), str)
        ]
        actors = [
            link.get("href")
            for link in jrd.get("links") or []
            if isinstance(link, dict)
            and link.get("rel") == "self"
            and link.get("type") == self.ACTOR_TYPE
            and isinstance(link.get("href"), str)
        ]
        if not profiles and not actors:
            return self.outcome(
                Result.MISSING, f"WebFinger on {host} gives no profile page for {resource}."
            )
        outcome = _rel_me_outcome(self, profiles[0], expected) if profiles else None
        if (outcome is None or outcome.result != Result.VERIFIED) and actors:
            links = self._actor_links(actors[0])
            if expected in [url_normal_form(link) for link in links]:
                return self.outcome(
                    Result.VERIFIED,
                    f'the profile fields of {resource} link to {expected} with rel="me".',
                    found=links, expected=expected,
                )  # fmt: skip
            if outcome is None:
                shown = ", ".join(links[:3]) if links else 'no rel="me" link'
                return self.outcome(
                    Result.MISMATCH if links else Result.MISSING,
                    f"found {'a link to ' if links else ''}{shown} in the profile of "
                    f"{resource}, expected {expected}",
                    found=links, expected=expected,
                )  # fmt: skip
        return outcome

    def _actor_links(self, url: str) -> list[str]:
        actor = self.get_json(url, accept=self.ACTOR_TYPE)
        links: list[str] = []
        fields = actor.get("attachment") if isinstance(actor, dict) else None
        for item in fields if isinstance(fields, list) else []:
            if isinstance(item, dict) and isinstance(item.get("value"), str):
                links += parse_page(item["value"], url)[0]
        return links

    def instructions(self, handle, challenge):
        return _(
            "Add %(profile)s as a link in your fediverse profile (a profile field, which "
            'Mastodon marks rel="me").'
        ) % {"profile": handle.entry.profile_url}

    def steps(self, handle, challenge):
        host = handle.canonical.partition("@")[2]
        return [
            Step(
                _("Add your Worldbook page to your profile"),
                _(
                    "On %(host)s, edit your profile and add an extra field (Mastodon: Edit "
                    "profile → Extra fields; other servers call them links or metadata). Give "
                    "it any label, and this address as its content: your server then links it "
                    'with rel="me".'
                )
                % {"host": host},
                (Value(_("Label"), "Worldbook"), Value(_("Content"), handle.entry.profile_url)),
            ),
            Step(
                _("Or: paste the link itself"),
                _(
                    "If your server lets you write HTML in your profile, this link works "
                    "as well, in the profile's fields or its bio."
                ),
                (Value(_("Link to paste"), profile_link(handle)),),
                alternative=True,
            ),
            _keep_step(),
        ]


class DomainVerifier(Verifier):
    """A domain: the TXT record ``_worldbook.<domain>`` or the file
    ``https://<domain>/.well-known/worldbook-proof`` holds the token (whole value)."""

    method = Method.DOMAIN
    kinds = (HandleKind.DOMAIN,)
    RECORD_LABEL = "_worldbook"
    FILE_PATH = "/.well-known/worldbook-proof"

    @classmethod
    def record_name(cls, domain: str) -> str:
        """The name of the TXT record that holds the token: ``_worldbook.<domain>``."""
        return f"{cls.RECORD_LABEL}.{domain}"

    @classmethod
    def file_url(cls, domain: str) -> str:
        """The https address of the file that may hold the token instead."""
        return f"https://{domain}{cls.FILE_PATH}"

    def check(self, handle, challenge):
        domain = handle.canonical
        name = self.record_name(domain)
        records = resolver.txt_records(name, fresh=self.fresh)
        if any(value_is_token(value, challenge.token) for value in records):
            return self.outcome(
                Result.VERIFIED, f"the TXT record {name} holds the token.", txt=records
            )
        url = self.file_url(domain)
        try:
            page = self.get(url, accept="text/plain")
        except ProofRefused as exc:
            page = None
            refused = exc.reason
        else:
            refused = ""
        if page is not None and page.status < 400 and value_is_token(page.text, challenge.token):
            return self.outcome(Result.VERIFIED, f"{url} holds the token.", txt=records)
        if records or (page is not None and page.status < 400):
            found = records[0] if records else page.text.strip()[:80]
            return self.outcome(
                Result.MISMATCH,
                f"found {found!r} at {name if records else url}, expected {challenge.token}",
                txt=records,
            )
        extra = f" ({refused})" if refused else ""
        return self.outcome(
            Result.MISSING, f"found no TXT record {name} and no file {url}{extra}", txt=records
        )

    def instructions(self, handle, challenge):
        return _(
            "Add a DNS TXT record %(name)s with the value %(token)s, or serve that value at "
            "%(url)s."
        ) % {"name": self.record_name(handle.canonical), "token": challenge.token,
             "url": self.file_url(handle.canonical)}  # fmt: skip

    def steps(self, handle, challenge):
        domain = handle.canonical
        return [
            Step(
                _("Add a DNS TXT record"),
                _(
                    "Where the DNS of %(domain)s is managed (your registrar or DNS host), add "
                    "this record. Some providers want only the first part of the name "
                    "(%(label)s) and add the domain themselves. A new record can take a few "
                    "minutes to appear."
                )
                % {"domain": domain, "label": self.RECORD_LABEL},
                (
                    Value(_("Name"), self.record_name(domain)),
                    Value(_("Type"), "TXT"),
                    Value(_("Value"), challenge.token),
                ),
            ),
            Step(
                _("Or: serve a file"),
                _(
                    "If you cannot change the DNS, serve a file at this https address whose "
                    "whole content is the token (as plain text)."
                ),
                (
                    Value(_("File address"), self.file_url(domain)),
                    Value(_("File content"), challenge.token),
                ),
                alternative=True,
            ),
            _keep_step(),
        ]


class AtprotoVerifier(Verifier):
    """An AT Protocol handle (atproto "Handle" spec), checked both ways.

    Handle → DID by the TXT record ``_atproto.<handle>`` (``did=<did>``) or
    ``https://<handle>/.well-known/atproto-did``; DID → handle by the DID document
    (``did:plc`` from ``VERIFICATION_PLC_DIRECTORY_URL``, ``did:web`` from
    ``/.well-known/did.json``), whose ``alsoKnownAs`` must name ``at://<handle>``. The
    account's profile description (read from its PDS, ``com.atproto.repo.getRecord``)
    then holds the token as a word, tying the account to the entry.
    """

    method = Method.ATPROTO
    kinds = (HandleKind.ATPROTO,)

    def check(self, handle, challenge):
        name = handle.canonical
        did = self._did(name)
        if did is None:
            return self.outcome(
                Result.MISSING,
                f"found no DID for {name} (no _atproto.{name} TXT record, no "
                f"https://{name}/.well-known/atproto-did)",
            )
        document = self._document(did)
        if not isinstance(document, dict):
            return self.outcome(Result.MISSING, f"found no DID document for {did}", did=did)
        aka = document.get("alsoKnownAs")
        expected = f"at://{name}"
        if not isinstance(aka, list) or not aka:
            return self.outcome(
                Result.MISMATCH,
                f"the DID document of {did} names no handle (no alsoKnownAs), expected {expected}",
                did=did,
            )
        if expected not in [str(item).lower() for item in aka]:
            return self.outcome(
                Result.MISMATCH,
                f"the DID document of {did} names {', '.join(map(str, aka))}, expected {expected}",
                did=did,
            )
        pds = next(
            (
                s.get("serviceEndpoint")
                for s in document.get("service") or []
                if isinstance(s, dict) and str(s.get("id", "")).endswith("#atproto_pds")
            ),
            None,
        )
        if not isinstance(pds, str):
            return self.outcome(Result.MISSING, f"the DID document of {did} names no PDS", did=did)
        record = self.get_json(
            f"{pds.rstrip('/')}/xrpc/com.atproto.repo.getRecord?repo={quote(did)}"
            "&collection=app.bsky.actor.profile&rkey=self"
        )
        text = ""
        if isinstance(record, dict) and isinstance(record.get("value"), dict):
            text = str(record["value"].get("description") or "")
        if text_holds_token(text, challenge.token):
            return self.outcome(
                Result.VERIFIED, f"{name} and {did} name each other; the profile holds the token.",
                did=did,
            )  # fmt: skip
        return self.outcome(
            Result.MISMATCH,
            f"{name} and {did} name each other, but the profile description does not hold "
            f"{challenge.token}",
            did=did,
        )

    def _did(self, name: str) -> str | None:
        for value in resolver.txt_records(f"_atproto.{name}", fresh=self.fresh):
            if value.startswith("did="):
                return value[4:].strip()
        try:
            page = self.get(f"https://{name}/.well-known/atproto-did", accept="text/plain")
        except ProofRefused:
            return None
        text = page.text.strip()
        if page.status < 400 and text.startswith("did:") and len(text) < 2048:
            return text
        return None

    def _document(self, did: str):
        if did.startswith("did:plc:"):
            base = settings.VERIFICATION_PLC_DIRECTORY_URL.rstrip("/")
            return self.get_json(f"{base}/{quote(did, safe=':')}")
        if did.startswith("did:web:"):
            host = did[len("did:web:") :]
            if ":" in host or "/" in host:
                return None
            return self.get_json(f"https://{host}/.well-known/did.json")
        return None

    def instructions(self, handle, challenge):
        return _("Put %(token)s in your Bluesky profile description, then ask for a check.") % {
            "token": challenge.token
        }

    def steps(self, handle, challenge):
        name = handle.canonical
        return [
            Step(
                _("Put the token in your profile description"),
                _(
                    "In Bluesky (or your AT Protocol app), edit your profile and add the token "
                    "to its description as a word of its own, with a space or a new line "
                    "around it."
                ),
                (Value(_("Token"), challenge.token),),
            ),
            Step(
                _("Make sure your handle points at your account"),
                _(
                    "Worldbook finds your account's DID from the TXT record _atproto.%(name)s "
                    "or from https://%(name)s/.well-known/atproto-did, and your DID document "
                    "must name at://%(name)s. Bluesky sets both up when you use %(name)s as "
                    "your handle: nothing to do unless you changed your handle recently."
                )
                % {"name": name},
            ),
            _keep_step(),
        ]


class GitHubVerifier(Verifier):
    """A GitHub account: its bio, or a public gist of its own, holds the token as a word;
    read through the GitHub REST API at ``VERIFICATION_GITHUB_API_URL``."""

    method = Method.GITHUB
    kinds = (HandleKind.GITHUB,)

    def check(self, handle, challenge):
        api = settings.VERIFICATION_GITHUB_API_URL.rstrip("/")
        login = handle.canonical
        accept = "application/vnd.github+json"
        token = settings.VERIFICATION_GITHUB_TOKEN
        # An API token raises GitHub's limit from 60 to 5000 requests an hour; the fetcher
        # sends it to the API's host only.
        auth = {"Authorization": f"Bearer {token}"} if token else None
        user = self.get_json(f"{api}/users/{quote(login)}", accept=accept, credentials=auth)
        if not isinstance(user, dict) or str(user.get("login", "")).lower() != login:
            return self.outcome(Result.MISSING, f"GitHub knows no user {login}.")
        if text_holds_token(str(user.get("bio") or ""), challenge.token):
            return self.outcome(Result.VERIFIED, f"the GitHub profile of {login} holds the token.")
        gists = self.get_json(
            f"{api}/users/{quote(login)}/gists?per_page=30", accept=accept, credentials=auth
        )
        for gist in gists if isinstance(gists, list) else []:
            if not isinstance(gist, dict) or not gist.get("public"):
                continue
            owner = gist.get("owner") if isinstance(gist.get("owner"), dict) else {}
            if str(owner.get("login", "")).lower() != login:
                continue
            detail = self.get_json(
                f"{api}/gists/{quote(str(gist.get('id', '')))}", accept=accept, credentials=auth
            )
            files = detail.get("files") if isinstance(detail, dict) else None
            for item in (files or {}).values():
                if isinstance(item, dict) and text_holds_token(
                    str(item.get("content") or ""), challenge.token
                ):
                    return self.outcome(
                        Result.VERIFIED, f"a public gist of {login} holds the token.",
                        gist=gist.get("html_url"),
                    )  # fmt: skip
        return self.outcome(
            Result.MISSING,
            f"found {challenge.token} neither in the GitHub bio of {login} nor in a public gist",
        )

    def instructions(self, handle, challenge):
        return _("Put %(token)s in your GitHub bio or in a public gist, then ask for a check.") % {
            "token": challenge.token
        }

    def steps(self, handle, challenge):
        return [
            Step(
                _("Put the token in your GitHub bio"),
                _(
                    "Signed in to GitHub as %(login)s, open Settings → Public profile and add "
                    "the token to your bio as a word of its own."
                )
                % {"login": handle.canonical},
                (Value(_("Token"), challenge.token),),
            ),
            Step(
                _("Or: a public gist"),
                _(
                    "Create a public gist (gist.github.com) as %(login)s with a file that "
                    "holds the token. One of your 30 newest gists is read."
                )
                % {"login": handle.canonical},
                (Value(_("Gist content"), challenge.token),),
                alternative=True,
            ),
            _keep_step(),
        ]


# Hosts whose public pages show a post, and how a post's URL names its author.
PROOF_URL_HOSTS = {
    HandleKind.X: ("x.com", "twitter.com"),
    HandleKind.TELEGRAM: ("t.me",),
}


def proof_url_belongs(kind: str, username: str, url: str) -> bool:
    """True when ``url`` is an https page of ``username`` on the platform of ``kind``
    (host among :data:`PROOF_URL_HOSTS`, first path segment the username)."""
    parts = urlsplit(url)
    segments = [s for s in parts.path.split("/") if s]
    return (
        parts.scheme == "https"
        and (parts.hostname or "") in PROOF_URL_HOSTS.get(kind, ())
        and bool(segments)
        and segments[0].lower() == username.lower()
    )


class ProofUrlVerifier(Verifier):
    """A platform with public pages (X, Telegram channels): the person posts the token
    and gives the post's URL; the post's own text (its ``og:description`` /
    ``description`` meta tags, not replies around it) holds the token as a word."""

    method = Method.PROOF_URL
    kinds = tuple(PROOF_URL_HOSTS)

    def check(self, handle, challenge):
        url = challenge.proof_url
        if not url or not proof_url_belongs(handle.kind, handle.canonical, url):
            return self.outcome(
                Result.REFUSED, f"{url or 'no URL'} is not a post of {handle.canonical}."
            )
        page = self.get(url)
        if page.status >= 400:
            return self.outcome(Result.MISSING, f"{page.url} answered {page.status}.")
        _, descriptions = parse_page(page.text, page.url)
        if any(text_holds_token(text, challenge.token) for text in descriptions):
            return self.outcome(Result.VERIFIED, f"the post at {url} holds the token.")
        if not descriptions:
            return self.outcome(Result.MISSING, f"found no post text on {url}.")
        return self.outcome(
            Result.MISMATCH,
            f"the post at {url} says {descriptions[0][:80]!r}, expected it to hold "
            f"{challenge.token}",
        )

    def instructions(self, handle, challenge):
        return _("Post %(token)s publicly, then give the post's URL.") % {"token": challenge.token}

    @staticmethod
    def post_text(handle: Handle, challenge: VerificationChallenge) -> str:
        """The text to post: the entry's page, then the token as a word of its own."""
        return _("My Worldbook entry: %(profile)s %(token)s") % {
            "profile": handle.entry.profile_url, "token": challenge.token,
        }  # fmt: skip

    def steps(self, handle, challenge):
        host = PROOF_URL_HOSTS.get(handle.kind, ("",))[0]
        example = f"https://{host}/{handle.canonical}/…"
        platform = {HandleKind.X: "X", HandleKind.TELEGRAM: "Telegram"}.get(handle.kind, host)
        return [
            Step(
                _("Post this text publicly"),
                (
                    _(
                        "In your public Telegram channel %(name)s, post this text. Keep the "
                        "token as a word of its own."
                    )
                    if handle.kind == HandleKind.TELEGRAM
                    else _(
                        "As %(name)s on %(platform)s, post this text where anyone can read it "
                        "without signing in. Keep the token as a word of its own."
                    )
                )
                % {"name": handle.canonical, "platform": platform},
                (Value(_("Post text"), self.post_text(handle, challenge)),),
            ),
            Step(
                _("Give the post's address"),
                _(
                    "Copy the link of the post (it starts with %(example)s) into the field "
                    "below, then press “Check now”."
                )
                % {"example": example},
            ),
        ]


VERIFIERS: dict[str, type[Verifier]] = {
    cls.method: cls
    for cls in (
        RelMeVerifier, FediverseVerifier, DomainVerifier, AtprotoVerifier, GitHubVerifier,
        ProofUrlVerifier,
    )
}  # fmt: skip

# The method each handle kind is proved by (email: a code, see services).
METHOD_FOR_KIND: dict[str, str] = {
    HandleKind.EMAIL: Method.EMAIL_CODE,
    **{kind: cls.method for cls in VERIFIERS.values() for kind in cls.kinds},
}


def verifier_for(method: str, *, fresh: bool = False) -> Verifier:
    """Return a verifier instance for ``method`` (a :class:`Method` value other than the
    email code). Raises ``KeyError`` for a method with no verifier."""
    return VERIFIERS[method](fresh=fresh)
