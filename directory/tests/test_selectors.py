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
