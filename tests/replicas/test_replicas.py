"""Reads on a real streaming standby (directory.replicas), through the HTTP stack.

Two servers share one primary and its standby: ``lenient`` trusts a replica up to 300 s
behind and reads its state every 30 s, so a standby whose replay is paused stays in use
and shows where each read went, and a standby stopped between two readings fails in the
middle of requests; ``strict`` trusts one only 2 s behind (read every second, writers
pinned 3 s). Each
test that pauses replay resumes it and waits for the standby to catch up before it ends.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

import pytest

from directory.replicas import PIN_COOKIE
from tests.replicas.streaming import DATABASE, basic, replica_server

# django_db: the test database is made (and migrated) so that its schema can be copied.
pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


@pytest.fixture(scope="module")
def lenient(streaming_pair):
    with replica_server(
        streaming_pair,
        DATABASE_REPLICA_MAX_LAG="300",
        # A reading is trusted 30 s: a standby stopped after one is found out mid-request.
        DATABASE_REPLICA_CHECK_SECONDS="30",
        # Search documents written in the request, so a search shows the primary's rows.
        CELERY_TASK_ALWAYS_EAGER="true",
    ) as client:
        yield client


@pytest.fixture(scope="module")
def strict(streaming_pair):
    with replica_server(
        streaming_pair,
        DATABASE_REPLICA_MAX_LAG="2",
        DATABASE_REPLICA_CHECK_SECONDS="1",
        DATABASE_PIN_SECONDS="3",
        CELERY_TASK_ALWAYS_EAGER="true",
    ) as client:
        yield client


@contextmanager
def replay_paused(pair):
    """The standby receives WAL but replays none inside the block."""
    pair.wait_caught_up()
    pair.pause_replay()
    try:
        yield
    finally:
        pair.resume_replay()
        pair.wait_caught_up()


def nickname_on(cluster, handle: str) -> str | None:
    """The nickname of the entry ``handle`` as ``cluster`` holds it."""
    with cluster.connect(DATABASE) as conn:
        row = conn.execute(
            "SELECT nickname FROM directory_entry WHERE handle_canonical = %s", [handle]
        ).fetchone()
    return row[0] if row else None


def wrote(client, answer, status: int) -> None:
    """Check a write's answer: its status, and the pin cookie browsers get. The client then
    forgets the cookie: here the writer is known by its Basic credentials, and the same
    client also stands for callers who wrote nothing."""
    assert answer.status_code == status, answer.text
    assert answer.cookies.get(PIN_COOKIE) == "1"
    client.cookies.clear()


def create_entry(client, owner: str, handle: str, nickname: str) -> None:
    answer = client.post(
        "/api/v1/entries", json={"handle": handle, "nickname": nickname}, auth=basic(owner)
    )
    wrote(client, answer, 201)


def rename(client, owner: str, handle: str, nickname: str) -> None:
    answer = client.patch(
        f"/api/v1/entries/{handle}", json={"nickname": nickname}, auth=basic(owner)
    )
    wrote(client, answer, 200)


def page_shows(client, handle: str) -> str:
    """The nickname the anonymous entry page of ``handle`` shows (it is never cached)."""
    answer = client.get(f"/@{handle}")
    assert answer.status_code == 200, answer.text
    start = answer.text.index('<h1 class="p-name">') + len('<h1 class="p-name">')
    return answer.text[start : answer.text.index("</h1>", start)]


def searched(client, query: str, auth=None) -> list[str]:
    answer = client.get("/api/v1/search", params={"q": query}, auth=auth)
    assert answer.status_code == 200, answer.text
    return [result["nickname"] for result in answer.json()["results"]]


def test_it_reads_from_the_replica_and_writes_to_the_primary(streaming_pair, lenient):
    pair = streaming_pair
    create_entry(lenient, "bob", "bob-one", "Bob Before")
    with replay_paused(pair):
        rename(lenient, "bob", "bob-one", "Bob After")
        assert nickname_on(pair.primary, "bob-one") == "Bob After"
        assert nickname_on(pair.standby, "bob-one") == "Bob Before"
        # An anonymous reader is not pinned: the page is read from the standby.
        assert page_shows(lenient, "bob-one") == "Bob Before"
    assert nickname_on(pair.standby, "bob-one") == "Bob After"
    assert page_shows(lenient, "bob-one") == "Bob After"


def test_a_writer_reads_its_own_writes_while_others_read_the_replica(streaming_pair, lenient):
    pair = streaming_pair
    create_entry(lenient, "bob", "bob-two", "Robert Zweistein")
    with replay_paused(pair):
        rename(lenient, "bob", "bob-two", "Robert Zweistein Renamed")
        # Bob wrote: his reads go to the primary for the pinning window, on every path.
        entry = lenient.get("/api/v1/entries/bob-two", auth=basic("bob"))
        assert entry.json()["entry"]["nickname"] == "Robert Zweistein Renamed"
        resolved = lenient.get("/api/v1/resolve", params={"handle": "@bob-two"}, auth=basic("bob"))
        assert resolved.json()["entry"]["nickname"] == "Robert Zweistein Renamed"
        assert searched(lenient, "Zweistein", basic("bob")) == ["Robert Zweistein Renamed"]
        # Carol, signed in the same way, wrote nothing: the same search reads the standby.
        assert searched(lenient, "Zweistein", basic("carol")) == ["Robert Zweistein"]


def test_a_new_entry_answers_its_writer_at_once(streaming_pair, lenient):
    pair = streaming_pair
    with replay_paused(pair):
        create_entry(lenient, "carol", "carol-new", "Carol New")
        assert nickname_on(pair.standby, "carol-new") is None
        resolved = lenient.get(
            "/api/v1/resolve", params={"handle": "@carol-new"}, auth=basic("carol")
        )
        assert resolved.status_code == 200, resolved.text
        assert resolved.json()["entry"]["nickname"] == "Carol New"


def test_the_answer_cache_never_stores_the_replica_s_stale_answer(streaming_pair, lenient):
    pair = streaming_pair
    create_entry(lenient, "carol", "carol-cached", "Carol Cached")
    lookup = {"handle": "@carol-cached"}
    assert lenient.get("/api/v1/resolve", params=lookup).json()["entry"]["nickname"] == (
        "Carol Cached"
    )
    with replay_paused(pair):
        rename(lenient, "carol", "carol-cached", "Carol Recached")
        # The standby is in use (the page reads it) but has not replayed the rename; the
        # answer cache's fill after the rename reads the primary instead.
        assert page_shows(lenient, "carol-cached") == "Carol Cached"
        anonymous = lenient.get("/api/v1/resolve", params=lookup)
        assert anonymous.json()["entry"]["nickname"] == "Carol Recached"
        # Served from the cache now, and still the primary's answer.
        again = lenient.get("/api/v1/resolve", params=lookup)
        assert again.json()["entry"]["nickname"] == "Carol Recached"
        assert lenient.get("/api/v1/entries/carol-cached").json()["entry"]["nickname"] == (
            "Carol Recached"
        )


def test_a_lagging_replica_is_skipped_and_its_writer_never_sees_stale_data(streaming_pair, strict):
    pair = streaming_pair
    create_entry(strict, "bob", "bob-lag", "Bob Lag")
    assert page_shows(strict, "bob-lag") == "Bob Lag"
    with replay_paused(pair):
        rename(strict, "bob", "bob-lag", "Bob Lagged")
        renamed = time.monotonic()
        # Past the 2 s bound plus a reading's age (1 s), and past Bob's 3 s pinning window.
        wait_until_lag_exceeds(pair, 3.0)
        time.sleep(max(0.0, renamed + 4.0 - time.monotonic()))
        assert nickname_on(pair.standby, "bob-lag") == "Bob Lag"
        assert page_shows(strict, "bob-lag") == "Bob Lagged"
        entry = strict.get("/api/v1/entries/bob-lag", auth=basic("bob"))
        assert entry.json()["entry"]["nickname"] == "Bob Lagged"
        assert searched(strict, "Lagged", basic("carol")) == ["Bob Lagged"]


def wait_until_lag_exceeds(pair, seconds: float, timeout: float = 60) -> None:
    """Wait until the standby's newest replayed commit is more than ``seconds`` old."""
    deadline = time.monotonic() + timeout
    while True:
        with pair.standby.connect() as conn:
            lag = conn.execute(
                "SELECT EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
            ).fetchone()[0]
        if lag is not None and float(lag) > seconds:
            return
        assert time.monotonic() < deadline, "the standby's lag did not grow"
        time.sleep(0.2)


def test_a_stopped_replica_costs_no_error(streaming_pair, lenient):
    pair = streaming_pair
    names = ["Alpha", "Bravo", "Charlie", "Delta"]
    for name in names:
        create_entry(lenient, "bob", f"stop-{name.lower()}", f"Stopper {name}")
    pair.wait_caught_up()
    # Worker threads now hold connections to the standby, and its last reading says usable.
    for name in names:
        assert page_shows(lenient, f"stop-{name.lower()}") == f"Stopper {name}"
    pair.standby.stop("fast")
    try:
        for name in names:
            assert page_shows(lenient, f"stop-{name.lower()}") == f"Stopper {name}"
            missing = lenient.get("/api/v1/resolve", params={"handle": f"@gone-{name}"})
            assert missing.status_code == 404, missing.text
            assert searched(lenient, name) == [f"Stopper {name}"]
    finally:
        pair.standby.start()
        pair.wait_caught_up()
