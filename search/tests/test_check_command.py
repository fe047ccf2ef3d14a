"""manage.py search_check: drift between the index and the directory."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from directory.models import Entry
from search.models import SearchDocument

pytestmark = pytest.mark.django_db


def check(*args: str) -> str:
    out = io.StringIO()
    call_command("search_check", *args, stdout=out)
    return out.getvalue()


def test_it_reports_no_drift_for_an_index_in_step(make_entry):
    make_entry("Ottoline", "otto")
    report = check()
    assert "No drift: 1 listed entries" in report
    assert "database: index tables reachable, 1 documents." in report


def test_it_finds_missing_extra_and_stale_documents_and_fails(make_entry):
    missing = make_entry("Missing Person", "missing")
    extra = make_entry("Extra Person", "extra")
    stale = make_entry("Stale Person", "stale")
    make_entry("Fine Person", "fine")
    # Changes behind the actions' back, so no sync ran.
    SearchDocument.objects.filter(pk=missing.pk).delete()
    Entry.objects.filter(pk=extra.pk).update(discoverable=False)
    Entry.objects.filter(pk=stale.pk).update(nickname="Renamed Person")

    with pytest.raises(CommandError, match="Drift in the database index: 3 entries") as caught:
        check()
    assert caught.value.returncode == 1
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("search_check", stdout=out)
    report = out.getvalue()
    assert f"missing: 1 (entry ids {missing.pk})" in report
    assert f"extra: 1 (entry ids {extra.pk})" in report
    assert f"stale: 1 (entry ids {stale.pk})" in report


def test_it_fixes_the_drift_it_finds(make_entry):
    missing = make_entry("Missing Person", "missing")
    extra = make_entry("Extra Person", "extra")
    stale = make_entry("Stale Person", "stale")
    SearchDocument.objects.filter(pk=missing.pk).delete()
    Entry.objects.filter(pk=extra.pk).update(discoverable=False)
    Entry.objects.filter(pk=stale.pk).update(nickname="Renamed Person")

    assert "Fixed 3 entries." in check("--fix")
    assert "No drift: 2 listed entries" in check()
    assert SearchDocument.objects.get(pk=stale.pk).document["nickname"] == "Renamed Person"
