"""The home page and the results page."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.django_db


def test_it_shows_the_search_box_on_the_home_page(client):
    response = client.get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="search-q">' in html
    assert re.search(r'<input id="search-q" type="search" name="q"[^>]*autofocus', html)
    assert 'action="/search"' in html
    assert 'aria-live="polite"' in html
    assert "live-search.js" in html
    # The box is a combobox controlling the listbox the fragment brings.
    box = re.search(r'<input id="search-q"[^>]*>', html).group()
    for attribute in (
        'role="combobox"',
        'aria-autocomplete="list"',
        'aria-expanded="false"',
        'aria-controls="live-results-list"',
    ):
        assert attribute in box


def test_it_renders_results_with_links_badges_and_marks(client, make_entry):
    make_entry(
        "José Núñez",
        "JoseN",
        verified=[("fediverse", "@josen@mastodon.social")],
        claimed=[("github", "unprovenjose")],
    )
    make_entry("Nobody Else", "nobody")

    response = client.get("/search", {"q": "jose"})
    html = response.content.decode()

    assert response.status_code == 200
    assert "1 result" in html
    assert 'href="/@josen"' in html
    assert "<mark>José</mark> Núñez" in html
    assert "@<mark>Jose</mark>N" in html
    assert re.search(
        r'<span class="service">Fediverse</span> <span class="value">@<mark>jose</mark>'
        r'n@mastodon.social</span> <span class="verified-mark"><span class="badge verified">'
        r'<span aria-hidden="true">✓</span> Verified</span>',
        html,
    )
    assert "unprovenjose" not in html
    assert "@nobody" not in html


def test_it_escapes_what_people_typed(client, make_entry):
    make_entry('<img src=x onerror="alert(1)"> Mallory', "mallory")

    response = client.get("/search", {"q": 'mallory <script>alert("q")</script>'})
    html = response.content.decode()

    assert "<img src=x" not in html and "<script>alert" not in html
    assert "&lt;script&gt;" in html  # the query echoed in the box is escaped too

    response = client.get("/search", {"q": "mallory"})
    html = response.content.decode()
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; <mark>Mallory</mark>" in html


def test_it_sends_only_the_results_fragment_for_search_as_you_type(client, make_entry):
    make_entry("Ottoline Morrell", "otto")
    response = client.get("/search", {"q": "ott", "partial": "1"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html
    assert "<mark>Ott</mark>oline" in html
    assert '<ul class="results" id="live-results-list" role="listbox"' in html
    assert '<li id="live-option-1" role="option" aria-selected="false" data-href="/@otto">' in html
    # An option names its entry in data-href and holds nothing focusable.
    assert 'data-href="/@otto"' in html
    assert "<a " not in html.split('id="live-results-list"', 1)[1]
    # The full results page stays a plain list of links, in the tab order.
    page = client.get("/search", {"q": "ott"}).content.decode()
    assert 'role="listbox"' not in page and 'tabindex="-1"' not in page


def test_it_says_when_no_one_matches(client):
    response = client.get("/search", {"q": "zzyzx"})
    assert response.status_code == 200
    assert "No one matches “zzyzx”." in response.content.decode()


def test_it_pages_through_results(client, make_entry):
    for n in range(23):
        make_entry("Marguerite", f"m{n:02d}")
    first = client.get("/search", {"q": "marguerite"}).content.decode()
    second = client.get("/search", {"q": "marguerite", "page": "2"}).content.decode()

    assert "23 results, page 1 of 2" in first
    def results(html: str) -> str:
        return html.split('<ul class="results"', 1)[1].split("</ul>", 1)[0]

    assert results(first).count("<li>") == 20 and results(second).count("<li>") == 3
    assert 'href="/search?q=marguerite&amp;page=2" rel="next"' in first
    assert 'href="/search?q=marguerite&amp;page=1" rel="prev"' in second
    assert "@m22" in second and "@m22" not in first


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "ada", "page": "two"}, "The page number must be a whole number."),
        ({"q": "ada", "page": "0"}, "Pages go from 1 to 50"),
        ({"q": "a" * 201}, "Search for at most 200 characters."),
        ({"q": "a b c d e f g h i"}, "Search for at most 8 words."),
    ],
)
def test_it_answers_bad_input_with_400_and_the_reason(client, params, message):
    response = client.get("/search", params)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_it_shows_an_empty_search_page_without_a_query(client):
    response = client.get("/search")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<input id="search-q"' in html
    assert "No one matches" not in html and '<ul class="results">' not in html


@pytest.fixture
def search_rates(monkeypatch):
    """Set the ``search`` and ``search_ip`` rates for the test, starting from no requests."""
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    cache.delete_many(["throttle_search_ip-127.0.0.1", "throttle_search_ip_127.0.0.1"])

    def set_rates(per_client: str, per_address: str) -> None:
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "search", per_client)
        monkeypatch.setitem(SimpleRateThrottle.THROTTLE_RATES, "search_ip", per_address)

    yield set_rates
    cache.delete_many(["throttle_search_ip-127.0.0.1", "throttle_search_ip_127.0.0.1"])


def test_the_results_page_is_limited_per_client_with_a_clear_429(client, search_rates):
    search_rates("2/min", "100/min")
    for _ in range(2):
        assert client.get("/search", {"q": "ada"}).status_code == 200
    limited = client.get("/search", {"q": "ada"})
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 60
    html = limited.content.decode()
    assert "<html" in html and 'role="alert">Too many searches; try again in' in html
    # The fragment search-as-you-type fetches: a small message the script shows.
    partial = client.get("/search", {"q": "ada", "partial": "1"})
    assert partial.status_code == 429 and int(partial["Retry-After"]) >= 1
    fragment = partial.content.decode().strip()
    assert "<html" not in fragment
    assert fragment.startswith('<p class="error" role="alert">Too many searches; try again in')
    # The page and the API share one budget.
    assert client.get("/api/v1/search", {"q": "ada"}).status_code == 429


def test_a_signed_in_person_has_a_budget_of_their_own(client, django_user_model, search_rates):
    search_rates("1/min", "100/min")
    assert client.get("/search", {"q": "ada"}).status_code == 200  # as no one: the address
    from django.core.cache import cache

    reader = django_user_model.objects.create_user("reader", "r@example.org", "pw-1")
    # Test databases reuse primary keys; an earlier run's count for this id may linger.
    cache.delete(f"throttle_search_user-{reader.pk}")
    client.force_login(reader)
    assert client.get("/search", {"q": "ada"}).status_code == 200  # the account's own
    assert client.get("/search", {"q": "ada"}).status_code == 429


def test_the_results_page_is_limited_per_address_whoever_asks(
    client, django_user_model, search_rates
):
    search_rates("100/min", "2/min")
    for name in ("first", "second"):
        client.force_login(django_user_model.objects.create_user(name, f"{name}@example.org"))
        assert client.get("/search", {"q": "ada"}).status_code == 200
    client.force_login(django_user_model.objects.create_user("third", "third@example.org"))
    limited = client.get("/search", {"q": "ada"})
    assert limited.status_code == 429 and int(limited["Retry-After"]) >= 1
