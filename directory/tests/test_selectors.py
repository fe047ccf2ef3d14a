"""Resolve: which entry answers for a lookup string."""

import pytest

from directory import services
from directory.exceptions import NotFound
from directory.normalization import HandleKind
from directory.selectors import entry_resolve

pytestmark = pytest.mark.django_db


def test_it_resolves_a_dotted_directory_handle_written_without_at():
    entry = services.entry_create(nickname="Alice Smith", handle="alice.smith")
    assert entry_resolve("alice.smith") == (entry, "@alice.smith")


def test_it_falls_back_from_a_dotted_name_to_a_verified_domain():
    entry = services.entry_create(nickname="Books", handle="books")
    services.handle_mark_verified(
        handle=services.handle_add(entry=entry, kind=HandleKind.DOMAIN, raw="bücher.example")
    )
    assert entry_resolve("bücher.example") == (entry, "domain:xn--bcher-kva.example")
    with pytest.raises(NotFound):
        entry_resolve("other.example")


def test_a_verified_domain_wins_over_a_directory_handle_named_after_it():
    owner = services.entry_create(nickname="Example Org", handle="example-owner")
    squatter = services.entry_create(nickname="Squatter", handle="example.org")
    services.handle_mark_verified(
        handle=services.handle_add(entry=owner, kind=HandleKind.DOMAIN, raw="example.org")
    )
    assert entry_resolve("example.org") == (owner, "domain:example.org")
    assert entry_resolve("@example.org") == (squatter, "@example.org")


def test_it_resolves_this_directorys_own_entry_page_url(settings):
    entry = services.entry_create(nickname="Chloé", handle="chloe-dubois")
    url = f"{settings.SITE_URL}/@chloe-dubois"
    assert entry_resolve(url) == (entry, "@chloe-dubois")
