"""The normal forms proofs are compared in, and the page reader that copes with cut-off
HTML."""

from __future__ import annotations

import pytest

from directory.verification.matching import (
    parse_page,
    same_url,
    text_holds_token,
    value_is_token,
)

TOKEN = "wb-Abc_123-xyz"


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("https://worldbook.example/@alice", "https://worldbook.example/@alice/", True),
        ("https://worldbook.example/@alice", "HTTPS://WORLDBOOK.EXAMPLE/@alice", True),
        ("https://worldbook.example/@alice", "https://worldbook.example:443/@alice", True),
        ("https://worldbook.example/@alice", "https://worldbook.example/@alice#me", True),
        ("https://bücher.example/@a", "https://xn--bcher-kva.example/@a", True),
        ("https://worldbook.example/@alice", "https://worldbook.example/@Alice", False),
        ("https://worldbook.example/@alice", "https://worldbook.example/@alice//", False),
        ("https://worldbook.example/@alice", "https://worldbook.example/@alicex", False),
        ("https://worldbook.example/@alice", "https://worldbook.example:8443/@alice", False),
        ("https://worldbook.example/@alice", "http://worldbook.example/@alice", False),
        ("https://worldbook.example/@alice", "javascript:alert(1)", False),
    ],
)
def test_urls_match_on_one_normal_form(a, b, same):
    assert same_url(a, b) is same


def test_a_whole_value_must_equal_the_token():
    assert value_is_token(f"  {TOKEN}\n", TOKEN)
    assert not value_is_token(f"token={TOKEN}", TOKEN)
    assert not value_is_token(TOKEN.lower(), TOKEN)


def test_free_text_must_hold_the_token_as_a_word():
    assert text_holds_token(f"Hello!\n{TOKEN} is my proof", TOKEN)
    assert not text_holds_token(f"Hello x{TOKEN}", TOKEN)
    assert not text_holds_token(f"Hello {TOKEN}.", TOKEN)
    assert not text_holds_token(TOKEN[:-1], TOKEN)


def test_it_reads_rel_me_links_relative_links_and_descriptions():
    html = (
        '<html><head><base href="https://alice.test/blog/">'
        '<link rel="ME" href="/about"><meta property="og:description" content="Hi there">'
        '</head><body><a rel="nofollow me noopener" href="../@alice">x</a>'
        '<a rel="mention" href="https://other.test/">y</a><a rel="me">no href</a></body>'
    )
    links, descriptions = parse_page(html, "https://alice.test/")
    assert links == ["https://alice.test/about", "https://alice.test/@alice"]
    assert descriptions == ["Hi there"]


@pytest.mark.parametrize(
    "cut",
    ['<a rel="me" href="https://worldbook.exa', "<a rel=", "<", "<!-- comment", "<![CDATA["],
)
def test_it_copes_with_a_page_cut_anywhere(cut):
    links, _ = parse_page('<p><a rel="me" href="https://a.test/">a</a>' + cut, "https://a.test/")
    assert links == ["https://a.test/"]
