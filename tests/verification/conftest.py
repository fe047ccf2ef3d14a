"""Fixtures for the verification tests: loopback HTTPS and DNS servers wired in through
settings, and an entry (alice) whose handles are proved against them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from directory.services import entry_create
from tests.sites import use_test_site
from tests.verification.servers import SERVER_ADDRESS, DnsServer, WebServer


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory) -> tuple[trustme.CA, Path]:
    ca = trustme.CA()
    bundle = tmp_path_factory.mktemp("ca") / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    return ca, bundle


@pytest.fixture(scope="session")
def web_server(test_ca) -> Iterator[WebServer]:
    server = WebServer(test_ca[0]).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def dns_server() -> Iterator[DnsServer]:
    server = DnsServer().start()
    yield server
    server.stop()


def verification_environment(web: WebServer, dns: DnsServer, bundle: Path) -> dict[str, str]:
    """The environment variables that point a worker process at the loopback servers."""
    return {
        "SITE_URL": "https://worldbook.example",
        "VERIFICATION_ALLOWED_ADDRESSES": SERVER_ADDRESS,
        "VERIFICATION_DNS_NAMESERVERS": "127.0.0.1",
        "VERIFICATION_DNS_PORT": str(dns.port),
        "VERIFICATION_HTTPS_PORT": str(web.port),
        "VERIFICATION_CA_BUNDLE": str(bundle),
        "VERIFICATION_TIMEOUT_MS": "5000",
        "VERIFICATION_GITHUB_API_URL": "https://api.github.test",
        "VERIFICATION_PLC_DIRECTORY_URL": "https://plc.test",
    }


@pytest.fixture
def short_timeout(web, settings) -> None:
    """A 0.5 s timeout, for the tests of a server that answers too late (``SILENT``); set
    after ``web`` sets the generous one."""
    settings.VERIFICATION_TIMEOUT_MS = 500


@pytest.fixture
def web(web_server, dns_server, test_ca, settings) -> WebServer:
    """The HTTPS server with no routes, and settings pointing verifiers at it."""
    use_test_site(settings, "verification")
    settings.VERIFICATION_ALLOWED_ADDRESSES = [SERVER_ADDRESS]
    settings.VERIFICATION_DNS_NAMESERVERS = ["127.0.0.1"]
    settings.VERIFICATION_DNS_PORT = dns_server.port
    settings.VERIFICATION_HTTPS_PORT = web_server.port
    settings.VERIFICATION_CA_BUNDLE = str(test_ca[1])
    # Generous, so loopback answers arrive in time on a machine whose cores are busy; the
    # tests of a server that does not answer take ``short_timeout``.
    settings.VERIFICATION_TIMEOUT_MS = 5000
    settings.VERIFICATION_RETRY_BACKOFF_MS = 0
    settings.VERIFICATION_MAX_RETRIES = 2
    settings.VERIFICATION_GITHUB_API_URL = "https://api.github.test"
    settings.VERIFICATION_PLC_DIRECTORY_URL = "https://plc.test"
    web_server.reset()
    dns_server.reset()
    yield web_server
    web_server.reset()
    dns_server.reset()


@pytest.fixture
def dns(web, dns_server) -> DnsServer:
    """The DNS server with an empty zone; the resolver's shared cache starts empty."""
    from directory.verification import resolver

    resolver.clear_cache()
    yield dns_server
    resolver.clear_cache()


@pytest.fixture
def alice_user(django_user_model):
    return django_user_model.objects.create_user("alice", "alice@example.org", "alice-pw-1")


@pytest.fixture
def alice(alice_user):
    return entry_create(nickname="Alice Liddell", handle="alice", owner=alice_user)


@pytest.fixture
def bob(django_user_model):
    user = django_user_model.objects.create_user("bob", "bob@example.net", "bob-pw-1")
    return entry_create(nickname="Bob Builder", handle="bob", owner=user)


@pytest.fixture
def claim():
    """Claim a handle for an entry and start its proof; returns ``(handle, token)``."""
    from directory.services import handle_add
    from directory.verification.services import verification_start

    def run(entry, kind: str, raw: str, proof_url: str = ""):
        handle = handle_add(entry=entry, kind=kind, raw=raw)
        challenge = verification_start(handle=handle, proof_url=proof_url)
        return handle, challenge.token

    return run


@pytest.fixture
def check_now(django_capture_on_commit_callbacks):
    """Run "check now" on a handle (the task runs in-process); returns its newest check."""
    from directory.verification.services import verification_request_check

    def run(handle, proof_url: str = ""):
        with django_capture_on_commit_callbacks(execute=True):
            verification_request_check(handle=handle, proof_url=proof_url)
        handle.refresh_from_db()
        return handle.verification_checks.order_by("-created_at", "-id").first()

    return run
