"""Through a real Celery worker: a suspension leaves the search index, and a look-alike
nickname lands in the impersonation queue, both done by the worker process."""

from __future__ import annotations

import re
import uuid

import pytest

from tests.e2e.test_worker import celery_worker, eventually  # noqa: F401

pytestmark = [pytest.mark.worker]


@pytest.mark.django_db(transaction=True)
def test_the_worker_drops_a_suspended_entry_and_queues_a_look_alike(celery_worker):  # noqa: F811
    from accounts.models import User
    from directory.models import Entry
    from directory.moderation.models import ImpersonationSuspect, ProtectedNameKey
    from directory.moderation.services import entry_suspend
    from directory.moderation.tests.fixtures import (
        ensure_moderator_groups,
        make_user,
        verified_entry,
    )
    from directory.services import entry_create
    from search.backends import get_backend

    ensure_moderator_groups()
    log_path = celery_worker.log_path
    word = f"Quillfeather{uuid.uuid4().hex[:6]}"
    owner = User.objects.create_user("famous", "famous@example.org", "x")
    famous = verified_entry(owner, f"Orla {word}", f"orla{uuid.uuid4().hex[:6]}")
    moderator = make_user(User, "mod", group="Moderators", staff=True)

    def indexed() -> list[int]:
        return get_backend().search(word, limit=20, offset=0)[0]

    eventually(lambda: famous.pk in indexed(), "the verified entry in the index", log_path)
    eventually(
        lambda: ProtectedNameKey.objects.filter(entry=famous).exists(),
        "the verified entry's names protected",
        log_path,
    )

    impostor_owner = User.objects.create_user("impostor", "impostor@example.org", "x")
    impostor = entry_create(nickname=f"Оrla {word}", handle="orla-real", owner=impostor_owner)
    eventually(
        lambda: ImpersonationSuspect.objects.filter(entry=impostor, resembles=famous).exists(),
        "the look-alike in the impersonation queue",
        log_path,
    )
    eventually(lambda: impostor.pk in indexed(), "the look-alike in the index", log_path)

    entry_suspend(entry=impostor, moderator=moderator, reason="Impersonates Orla.")

    assert Entry.objects.get(pk=impostor.pk).status == "suspended"
    eventually(
        lambda: impostor.pk not in indexed(), "the suspended entry leaving the index", log_path
    )
    for task in ("moderation.impersonation_check", "search.sync_entry"):
        eventually(
            lambda task=task: re.search(
                rf"Task {re.escape(task)}\[[^\]]+\] succeeded", celery_worker.log()
            ),
            f"the worker's log of {task}",
            log_path,
        )
