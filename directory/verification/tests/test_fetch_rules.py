"""The address and URL rules of the SSRF-safe fetcher, without a network."""

from __future__ import annotations

import ipaddress

import pytest

from directory.verification.errors import ProofRefused
from directory.verification.fetch import check_address, user_agent


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111", "2a00:1450:4001:80b::200e"],
)
def test_public_addresses_pass(address, settings):
    settings.VERIFICATION_ALLOWED_ADDRESSES = []
    check_address(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1", "127.0.0.2", "10.0.0.1", "172.31.255.255", "192.168.0.1", "169.254.0.1",
        "100.64.0.1", "0.0.0.0", "224.0.0.251", "240.0.0.1", "255.255.255.255", "192.0.2.1",
        "198.51.100.1", "203.0.113.1", "::1", "::", "fe80::1", "fc00::1", "ff02::1",
        "::ffff:127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "2002:a00:1::",
        "64:ff9b::a00:1", "2001:db8::1", "2001:0:4136:e378:8000:63bf:f5ff:fffe",
    ],
)  # fmt: skip
def test_internal_addresses_are_refused(address, settings):
    settings.VERIFICATION_ALLOWED_ADDRESSES = []
    with pytest.raises(ProofRefused, match="is not a public internet address"):
        check_address(ipaddress.ip_address(address))


def test_the_allowlist_lets_exact_addresses_and_networks_through(settings):
    settings.VERIFICATION_ALLOWED_ADDRESSES = ["127.0.0.2", "10.8.0.0/16"]
    check_address(ipaddress.ip_address("127.0.0.2"))
    check_address(ipaddress.ip_address("10.8.1.1"))
    with pytest.raises(ProofRefused):
        check_address(ipaddress.ip_address("127.0.0.1"))
    with pytest.raises(ProofRefused):
        check_address(ipaddress.ip_address("::ffff:127.0.0.2"))


def test_the_user_agent_names_the_verifier_and_the_site(settings):
    settings.SITE_URL = "https://worldbook.example"
    agent = user_agent()
    assert agent.startswith("Worldbook-Verifier/")
    assert agent.endswith(" (+https://worldbook.example)")


@pytest.mark.parametrize("raw", ["https://[::1]/", "https://[::ffff:127.0.0.1]/"])
def test_a_website_on_an_internal_ipv6_address_is_refused_as_not_public(raw):
    # Handles never name an IP address (normalize_handle refuses them); a proof URL met on
    # the way (a redirect, a link) may, and the fetcher refuses it as not public.
    from directory.normalization import normalize_url
    from directory.verification.fetch import fetch

    url = normalize_url(raw)
    with pytest.raises(ProofRefused, match="is not a public internet address"):
        fetch(url)
