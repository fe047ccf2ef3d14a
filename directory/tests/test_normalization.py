"""The normalization rules every surface relies on (DESIGN.md, "Normalization")."""

import pytest

from directory.exceptions import NormalizationError
from directory.normalization import (
    HandleKind,
    normalize_directory_handle,
    normalize_domain,
    normalize_endpoint_uri,
    normalize_handle,
    normalize_phone,
    normalize_url,
    parse_lookup,
    skeleton,
)


def test_it_keeps_the_italian_leading_zero():
    assert normalize_phone("0656851242", "IT").e164 == "+390656851242"


def test_it_keeps_a_tel_uri_extension_apart_from_the_e164_number():
    number = normalize_phone("tel:+44-555-555-5555;ext=5555")
    assert number.e164 == "+445555555555"
    assert number.extension == "5555"
    assert number.tel_uri == "tel:+445555555555;ext=5555"


def test_it_reads_a_written_extension():
    number = normalize_phone("(905) 555-1234 x12", "US")
    assert (number.e164, number.extension) == ("+19055551234", "12")


def test_it_needs_a_region_for_a_national_number():
    with pytest.raises(NormalizationError, match="region"):
        normalize_phone("0656851242")


@pytest.mark.parametrize("raw", ["+1-800-MYFAX", "BusinessPhone", "", "++", "+1 555"])
def test_it_refuses_what_is_not_a_phone_number(raw):
    with pytest.raises(NormalizationError):
        normalize_phone(raw, "US")


@pytest.mark.parametrize(
    "raw", ["@Alice@Mastodon.Social", "alice@mastodon.social", "acct:alice@mastodon.social"]
)
def test_it_gives_fediverse_spellings_one_key(raw):
    handle = normalize_handle(HandleKind.FEDIVERSE, raw)
    assert handle.canonical.lower() == "alice@mastodon.social"
    assert handle.key == "alice@mastodon.social"


def test_it_keeps_the_case_of_a_fediverse_user_for_webfinger():
    handle = normalize_handle(HandleKind.FEDIVERSE, "@Alice@Mastodon.Social")
    assert handle.canonical == "Alice@mastodon.social"


def test_it_reads_an_at_bluesky_name_as_an_at_protocol_handle():
    parsed = parse_lookup("@alice.bsky.social", local_domain="worldbook.example")
    assert [(c.kind, c.key) for c in parsed.candidates] == [
        (HandleKind.ATPROTO, "alice.bsky.social")
    ]
    assert parsed.directory_handle is not None


def test_it_keeps_matrix_local_parts_case_sensitive():
    upper = normalize_handle(HandleKind.MATRIX, "@Alice:matrix.org")
    lower = normalize_handle(HandleKind.MATRIX, "@alice:matrix.org")
    assert upper.key != lower.key


def test_it_compares_matrix_server_names_case_insensitively():
    assert (
        normalize_handle(HandleKind.MATRIX, "@alice:Matrix.org").key
        == normalize_handle(HandleKind.MATRIX, "@alice:matrix.org").key
        == "@alice:matrix.org"
    )


def test_it_gives_u_label_and_a_label_domains_one_handle():
    unicode_form = normalize_handle(HandleKind.DOMAIN, "bücher.example")
    ascii_form = normalize_handle(HandleKind.DOMAIN, "xn--bcher-kva.example")
    assert unicode_form == ascii_form
    assert unicode_form.canonical == "xn--bcher-kva.example"


def test_it_keeps_an_email_local_part_but_compares_it_case_insensitively():
    handle = normalize_handle(HandleKind.EMAIL, "Alice.Smith@Example.COM")
    assert handle.canonical == "Alice.Smith@example.com"
    assert handle.key == normalize_handle(HandleKind.EMAIL, "alice.smith@example.com").key


def test_it_refuses_reserved_atproto_tlds():
    assert (
        normalize_handle(HandleKind.ATPROTO, "Alice.bsky.social").canonical == "alice.bsky.social"
    )
    with pytest.raises(NormalizationError):
        normalize_handle(HandleKind.ATPROTO, "alice.test")


@pytest.mark.parametrize("lookalike", ["eIonmusk", "e\u200blonmusk", "ELONMUSK", "elonrnusk"])
def test_it_gives_look_alike_directory_handles_the_same_skeleton(lookalike):
    assert (
        normalize_directory_handle(lookalike).skeleton
        == normalize_directory_handle("elonmusk").skeleton
    )


def test_it_keeps_unrelated_handles_apart():
    assert skeleton("alice") != skeleton("alicia")
    assert skeleton("maria") != skeleton("mario")


@pytest.mark.parametrize(
    "raw", ["\u200b\u200c\u200d", "\u2060\ufeff", "@", " ", "a", "x" * 31, "al ice", "-alice"]
)
def test_it_refuses_bad_directory_handles(raw):
    with pytest.raises(NormalizationError):
        normalize_directory_handle(raw)


def test_it_accepts_directory_handles_in_other_scripts():
    handle = normalize_directory_handle("@Мария")
    assert (handle.display, handle.canonical) == ("Мария", "мария")


def test_it_normalizes_urls_to_one_comparable_form():
    assert normalize_url("HTTPS://Example.COM:443/@al/") == "https://example.com/@al"
    assert normalize_url("https://example.com") == "https://example.com/"


def test_it_normalizes_domains_dropping_a_trailing_dot():
    assert normalize_domain("Example.ORG.") == "example.org"


@pytest.mark.parametrize(
    ("raw", "uri", "scheme", "service"),
    [
        ("sip:alice@Example.ORG", "sip:alice@example.org", "sip", "sip"),
        ("sips:alice@example.org", "sips:alice@example.org", "sips", "sip"),
        ("xmpp:Alice@Jabber.org/phone", "xmpp:alice@jabber.org", "xmpp", "xmpp"),
        ("matrix:u/alice:matrix.org", "matrix:u/alice:matrix.org", "matrix", "matrix"),
        (
            "https://matrix.to/#/@alice:matrix.org",
            "https://matrix.to/#/@alice:matrix.org",
            "https",
            "matrix",
        ),
        ("mailto:Alice@Example.com", "mailto:Alice@example.com", "mailto", "email"),
        ("tel:+44-555-555-5555;ext=5555", "tel:+445555555555;ext=5555", "tel", "phone"),
        ("facetime:alice@example.com", "facetime:alice@example.com", "facetime", "facetime"),
        (
            "facetime-audio:+14155550123",
            "facetime-audio:+14155550123",
            "facetime-audio",
            "facetime",
        ),
        ("https://wa.me/14155550123", "https://wa.me/14155550123", "https", "whatsapp"),
        ("https://meet.jit.si/AliceRoom", "https://meet.jit.si/AliceRoom", "https", "jitsi"),
    ],
)
def test_it_normalizes_endpoint_uris(raw, uri, scheme, service):
    endpoint = normalize_endpoint_uri(raw)
    assert (endpoint.uri, endpoint.scheme, endpoint.service) == (uri, scheme, service)


@pytest.mark.parametrize(
    "raw", ["gopher:alice", "http://call.example/alice", "alice", "sip:nohost"]
)
def test_it_refuses_unsupported_endpoints(raw):
    with pytest.raises(NormalizationError):
        normalize_endpoint_uri(raw)


@pytest.mark.parametrize(
    ("query", "expected_kind"),
    [
        ("@Alice:matrix.org", HandleKind.MATRIX),
        ("acct:alice@mastodon.social", HandleKind.FEDIVERSE),
        ("@alice@mastodon.social", HandleKind.FEDIVERSE),
        ("alice@example.com", HandleKind.EMAIL),
        ("bücher.example", HandleKind.DOMAIN),
        ("https://github.com/alice", HandleKind.GITHUB),
        ("https://mastodon.social/@alice", HandleKind.FEDIVERSE),
        ("+14155550123", HandleKind.WHATSAPP),
        ("tel:+1-415-555-0123", HandleKind.WHATSAPP),
    ],
)
def test_it_reads_every_lookup_form(query, expected_kind):
    parsed = parse_lookup(query, local_domain="worldbook.example")
    if expected_kind != HandleKind.DOMAIN:  # a dotted name may also be a directory handle
        assert parsed.directory_handle is None
    assert parsed.candidates[0].kind == expected_kind


@pytest.mark.parametrize(
    "query", ["@alice", "alice", "acct:alice@worldbook.example", "Alice@WorldBook.Example"]
)
def test_it_reads_directory_handle_lookups(query):
    parsed = parse_lookup(query, local_domain="worldbook.example")
    assert parsed.directory_handle is not None
    assert parsed.directory_handle.canonical == "alice"


def test_it_reads_a_dotted_name_as_a_directory_handle_and_a_domain():
    parsed = parse_lookup("alice.smith", local_domain="worldbook.example")
    assert parsed.directory_handle.canonical == "alice.smith"
    assert [c.kind for c in parsed.candidates] == [HandleKind.DOMAIN, HandleKind.ATPROTO]


@pytest.mark.parametrize(
    "raw",
    [
        'https://evil.example/"><script>alert(1)</script>',
        "https://evil.example/a b",
        'sip:"><svg/onload=alert(1)>@x.org',
        "https://meet.jit.si/a{b}",
    ],
)
def test_it_refuses_endpoint_uris_with_characters_a_uri_cannot_hold(raw):
    with pytest.raises(NormalizationError, match="percent-encoded"):
        normalize_endpoint_uri(raw)


def test_it_keeps_the_account_a_signal_link_carries_in_its_fragment():
    first = normalize_endpoint_uri("https://signal.me/#p/+393331234567")
    second = normalize_endpoint_uri("https://signal.me/#p/+14155550123")
    assert (first.uri, first.service) == ("https://signal.me/#p/+393331234567", "signal")
    assert first.uri != second.uri
    with pytest.raises(NormalizationError):
        normalize_endpoint_uri("https://signal.me/")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("https://[::1]/", "https://[::1]/"),
        ("https://[2001:DB8::0001]:8443/x/", "https://[2001:db8::1]:8443/x"),
        ("https://[::ffff:127.0.0.1]/", "https://[::ffff:7f00:1]/"),
        ("https://127.0.0.1/", "https://127.0.0.1/"),
    ],
)
def test_it_keeps_brackets_around_ipv6_hosts(raw, expected):
    assert normalize_url(raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        (HandleKind.DOMAIN, "127.0.0.1"),
        (HandleKind.DOMAIN, "10.0.0.1"),
        (HandleKind.DOMAIN, "0x7f.1"),
        (HandleKind.DOMAIN, "0177.0.0.1"),
        (HandleKind.DOMAIN, "127.1"),
        (HandleKind.DOMAIN, "example.123."),
        (HandleKind.DOMAIN, "example.0x"),
        (HandleKind.WEB, "https://[::ffff:127.0.0.1]/"),
        (HandleKind.WEB, "https://[::1]/"),
        (HandleKind.WEB, "https://127.0.0.1/"),
        (HandleKind.WEB, "http://0x7f.1/me"),
        (HandleKind.ATPROTO, "127.0.0.1"),
        (HandleKind.ATPROTO, "at://0177.0.0.1"),
        (HandleKind.FEDIVERSE, "@alice@127.0.0.1"),
        (HandleKind.FEDIVERSE, "https://127.0.0.1/@alice"),
        (HandleKind.EMAIL, "alice@127.0.0.1"),
        (HandleKind.EMAIL, "mailto:alice@127.1"),
        (HandleKind.MATRIX, "@alice:127.0.0.1"),
        (HandleKind.MATRIX, "@alice:0x7f.1:8448"),
    ],
)
def test_it_refuses_handles_whose_host_is_an_ip_address(kind, raw):
    with pytest.raises(NormalizationError, match="IP address"):
        normalize_handle(kind, raw)


@pytest.mark.parametrize(
    ("kind", "raw", "canonical"),
    [
        (HandleKind.DOMAIN, "1password.com", "1password.com"),
        (HandleKind.DOMAIN, "123.example.org", "123.example.org"),
        (HandleKind.DOMAIN, "example.0xg", "example.0xg"),
        (HandleKind.WEB, "https://web3.example.org/", "https://web3.example.org/"),
        (HandleKind.EMAIL, "alice@4chan.example.org", "alice@4chan.example.org"),
        (HandleKind.MATRIX, "@alice:matrix2.example.org:8448", "@alice:matrix2.example.org:8448"),
    ],
)
def test_hosts_with_digits_that_do_not_end_in_a_number_are_kept(kind, raw, canonical):
    assert normalize_handle(kind, raw).canonical == canonical


def test_it_refuses_credentials_in_web_handles_without_echoing_them():
    with pytest.raises(NormalizationError, match="user name or password") as caught:
        normalize_handle(HandleKind.WEB, "https://user:pw@example.com/")
    assert "pw" not in str(caught.value)


def test_it_upgrades_plain_http_web_handles_to_https():
    assert normalize_handle(HandleKind.WEB, "http://Example.com/me/").canonical == (
        "https://example.com/me"
    )
