"""The fetcher refuses every address outside the public internet, however it is spelled,
whether named directly or reached through a redirect or a DNS answer."""

from __future__ import annotations

import itertools

import pytest

from directory.verification.errors import ProofRefused
from directory.verification.fetch import MAX_REDIRECTS, fetch
from tests.verification.servers import Reply

pytestmark = pytest.mark.django_db

# Each one names a loopback, private, link-local, multicast, reserved or unspecified
# address (or is a numeric spelling a browser would read as one).
REFUSED_URLS = [
    "https://127.0.0.1/",
    "https://127.255.255.254:8443/",
    "https://10.0.0.1/",
    "https://172.16.0.1/",
    "https://192.168.1.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://100.64.0.1/",
    "https://198.18.0.1/",
    "https://224.0.0.1/",
    "https://240.0.0.1/",
    "https://255.255.255.255/",
    "https://0.0.0.0/",
    "https://0/",
    "https://2130706433/",
    "https://0x7f.1/",
    "https://0x7f000001/",
    "https://0177.0.0.1/",
    "https://0x7f.0x0.0x0.0x1/",
    "https://127.1/",
    "https://[::1]/",
    "https://[::]/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::ffff:7f00:1]/",
    "https://[::ffff:10.0.0.1]/",
    "https://[fe80::1]/",
    "https://[fc00::1]/",
    "https://[fd12:3456::1]/",
    "https://[ff02::1]/",
    "https://[2002:7f00:1::]/",
    "https://[64:ff9b::7f00:1]/",
    "https://alice.test@127.0.0.1/",
    "http://alice.test/",
    "ftp://alice.test/",
]


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_it_refuses_the_address_directly(web, url):
    with pytest.raises(ProofRefused):
        fetch(url, fresh=True)
    assert web.seen == []


@pytest.mark.parametrize("url", REFUSED_URLS)
def test_it_refuses_the_address_through_a_redirect(web, url):
    web.serve("alice.test", "/", Reply(302, headers={"Location": url}))
    with pytest.raises(ProofRefused):
        fetch("https://alice.test/", fresh=True)
    assert [seen.path for seen in web.seen] == ["/"]


@pytest.mark.parametrize(
    ("rdtype", "address"),
    [("A", "127.0.0.1"), ("A", "10.9.8.7"), ("A", "169.254.1.1"), ("AAAA", "::1"),
     ("AAAA", "fd00::5"), ("AAAA", "::ffff:c0a8:1"), ("A", "0.0.0.0")],
)  # fmt: skip
def test_it_refuses_a_name_whose_dns_answer_is_internal(web, dns, rdtype, address):
    dns.set("internal.test", "A", *([address] if rdtype == "A" else []))
    if rdtype == "AAAA":
        dns.set("internal.test", "AAAA", address)
    with pytest.raises(ProofRefused, match="is not a public internet address"):
        fetch("https://internal.test/", fresh=True)


def test_it_refuses_a_name_with_one_internal_address_among_public_ones(web, dns):
    dns.set("mixed.test", "A", "127.0.0.2", "10.0.0.8")
    web.serve("mixed.test", "/", Reply(200, "hello"))
    with pytest.raises(ProofRefused, match="10.0.0.8"):
        fetch("https://mixed.test/", fresh=True)
    assert web.seen == []


def test_it_connects_to_the_address_it_checked_despite_rebinding(web, dns):
    answers = itertools.chain([["127.0.0.2"]], itertools.repeat(["127.0.0.1"]))
    dns.set_dynamic("alice.test", "A", lambda: next(answers))
    web.serve("alice.test", "/", Reply(200, "hello"))
    result = fetch("https://alice.test/", fresh=True)
    assert result.status == 200
    assert result.address == "127.0.0.2"
    assert web.seen[0].headers["Host"] == "alice.test"


def test_the_loopback_stand_in_is_refused_without_the_allowlist(web, settings):
    settings.VERIFICATION_ALLOWED_ADDRESSES = []
    web.serve("alice.test", "/", Reply(200, "hello"))
    with pytest.raises(ProofRefused, match="127.0.0.2 is not a public internet address"):
        fetch("https://alice.test/", fresh=True)
    assert web.seen == []


def test_it_follows_at_most_three_redirects(web):
    for n in range(MAX_REDIRECTS + 1):
        web.serve("alice.test", f"/{n}", Reply(302, headers={"Location": f"/{n + 1}"}))
    web.serve("alice.test", f"/{MAX_REDIRECTS + 1}", Reply(200, "end"))
    with pytest.raises(ProofRefused, match="redirected more than 3 times"):
        fetch("https://alice.test/0", fresh=True)
    assert fetch("https://alice.test/1", fresh=True).text == "end"


def test_it_refuses_a_certificate_for_another_name(web, dns):
    dns.set("uncertified.test", "A", "127.0.0.2")
    web.serve("uncertified.test", "/", Reply(200, "hello"))
    with pytest.raises(ProofRefused, match="valid certificate"):
        fetch("https://uncertified.test/", fresh=True)
