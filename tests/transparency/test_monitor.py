"""``transparency_monitor`` replays the log against the database and names what is wrong."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from directory.models import Endpoint
from tests.api.conftest import EntryFactory, UserFactory, claim, reach
from transparency import services
from transparency.models import LogLeaf
from transparency.verifier import note

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def log(settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": f"monitor-{uuid.uuid4().hex}",
        }
    }
    settings.TRANSPARENCY_SIGNING_KEY, _ = note.generate_key("worldbook.example/log")


def monitor() -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("transparency_monitor", stdout=out, stderr=err)
    except CommandError as exc:
        return f"FAILED {exc}", err.getvalue()
    return out.getvalue(), err.getvalue()


@pytest.fixture
def directory():
    alice = EntryFactory(handle="alice", owner=UserFactory(username="alice"))
    claim(alice, "github", "alice-gh")
    reach(alice, "sip:alice@sip.example.org")
    bob = EntryFactory(handle="bob", owner=UserFactory(username="bob"))
    reach(bob, "xmpp:bob@chat.example.org", audience=Endpoint.Audience.CONTACTS)
    claim(bob, "signal", "+1 415 555 0199")
    return alice, bob


def test_a_log_kept_by_the_services_checks_out(directory):
    out, err = monitor()
    assert out.startswith("The log checks out: 6 entries"), (out, err)


def test_a_change_that_bypassed_the_log_is_found(directory):
    alice, _ = directory
    # A bulk update sends no signal: the directory now answers what the log never saw.
    Endpoint.objects.filter(entry=alice).update(uri="sip:mallory@evil.example")
    out, err = monitor()
    assert out.startswith("FAILED 1 problems")
    assert "@alice: the directory answers other handles or endpoints" in err


def test_an_entry_rewritten_in_the_log_is_found(directory):
    leaf = LogLeaf.objects.get(index=2)
    LogLeaf.objects.filter(pk=leaf.pk).update(data=bytes(leaf.data).replace(b"alice", b"alica"))
    out, err = monitor()
    assert out.startswith("FAILED")
    assert "checkpoint 3: its root is not the entries' tree hash" in err
    assert "entry 2: the record names @alica" in err


def test_a_missing_entry_is_found(directory):
    LogLeaf.objects.filter(index=4).delete()
    services.leaf_append(data=b"x")
    out, err = monitor()
    assert out.startswith("FAILED")
    assert "entry 4 is missing (next is 5)" in err


def test_handles_the_log_never_recorded_are_found_and_can_be_recorded(directory, settings):
    key, settings.TRANSPARENCY_SIGNING_KEY = settings.TRANSPARENCY_SIGNING_KEY, ""
    EntryFactory(handle="olivia")  # made while the log had no key
    settings.TRANSPARENCY_SIGNING_KEY = key
    out, err = monitor()
    assert out.startswith("FAILED") and "@olivia: answers, but the log has no record" in err
    out = StringIO()
    call_command("transparency_monitor", "--record-missing", stdout=out)
    assert "Recorded 1 handles" in out.getvalue()
    assert LogLeaf.objects.filter(handle="olivia", seq=0).exists()
