"""The moderators' verification queue, "check now", bulk re-check, evidence pages and
contested claims, in the admin console."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticDevice
from pytest_django.asserts import assertContains

from accounts.models import AuditEvent
from directory.models import Handle
from directory.services import handle_add
from directory.verification.models import ContestedClaim, VerificationCheck

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def admin_client(client: Client, django_user_model) -> Client:
    root = django_user_model.objects.create_superuser("root", "root@example.org", "root-pw-1")
    device = StaticDevice.objects.create(user=root, name="Backup codes")
    client.force_login(root)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def queue(dns, alice, claim, check_now):
    """Eight domains with failed checks, each with two checks of evidence."""
    handles = []
    for n in range(8):
        handle, _ = claim(alice, "domain", f"site{n}.test")
        check_now(handle)
        check_now(handle)
        handles.append(handle)
    return handles


def test_the_queue_lists_handles_in_trouble_in_few_queries(
    admin_client, queue, django_assert_max_num_queries
):
    url = reverse("admin:verification_verificationqueueitem_changelist")
    with django_assert_max_num_queries(8):
        response = admin_client.get(url)
    assertContains(response, "site7.test")
    assertContains(response, "found no TXT record _worldbook.site3.test")


@pytest.mark.parametrize(
    "name",
    ["verificationqueueitem", "verificationcheck", "contestedclaim"],
)
def test_each_changelist_loads_in_few_queries(
    admin_client, queue, name, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = admin_client.get(reverse(f"admin:verification_{name}_changelist"))
    assert response.status_code == 200


def test_check_now_from_the_change_page(
    admin_client, dns, queue, django_capture_on_commit_callbacks
):
    handle = queue[0]
    token = handle.verification_challenges.get().token
    dns.set("_worldbook.site0.test", "TXT", token)
    page = admin_client.get(reverse("admin:verification_verificationqueueitem_change",
                                    args=[handle.pk]))  # fmt: skip
    assertContains(page, "Check now")
    assertContains(page, token)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:verification_verificationqueueitem_check_now", args=[handle.pk])
        )
    assert response.status_code == 302
    handle.refresh_from_db()
    assert handle.status == Handle.Status.VERIFIED
    assert handle.verification_checks.first().trigger == "moderator"


def test_bulk_recheck(admin_client, dns, queue, django_capture_on_commit_callbacks):
    for handle in queue[:3]:
        token = handle.verification_challenges.get().token
        dns.set(f"_worldbook.{handle.canonical}", "TXT", token)
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:verification_verificationqueueitem_changelist"),
            {"action": "check_now", "_selected_action": [h.pk for h in queue]},
            follow=True,
        )
    assertContains(response, "Queued 8 check(s).")
    statuses = sorted(Handle.objects.filter(pk__in=[h.pk for h in queue])
                      .values_list("status", flat=True))  # fmt: skip
    assert statuses == ["failed"] * 5 + ["verified"] * 3


def test_the_evidence_page_shows_what_was_fetched(admin_client, web, alice, claim, check_now):
    handle, _ = claim(alice, "web", "https://alice.test/")
    check = check_now(handle)
    page = admin_client.get(reverse("admin:verification_verificationcheck_change",
                                    args=[check.pk]))  # fmt: skip
    assertContains(page, "&quot;address&quot;: &quot;127.0.0.2&quot;")
    assertContains(page, "https://alice.test/")


def test_contested_claims_are_listed_and_resolved(
    admin_client, dns, alice, bob, claim, check_now
):
    held, alice_token = claim(alice, "domain", "alice.example")
    contender, bob_token = claim(bob, "domain", "alice.example")
    dns.set("_worldbook.alice.example", "TXT", alice_token, bob_token)
    check_now(held)
    assert check_now(contender).result == VerificationCheck.Result.CONTESTED
    claim_row = ContestedClaim.objects.get()
    listing = admin_client.get(reverse("admin:verification_contestedclaim_changelist"))
    assertContains(listing, "@bob")
    assertContains(listing, "@alice")
    admin_client.post(
        reverse("admin:verification_contestedclaim_changelist"),
        {"action": "revoke_holder", "_selected_action": [claim_row.pk]},
    )
    claim_row.refresh_from_db()
    held.refresh_from_db()
    assert claim_row.status == "resolved"
    assert claim_row.resolved_by.username == "root"
    assert held.status == Handle.Status.REVOKED
    events = {e.action: e for e in AuditEvent.objects.filter(actor__username="root")}
    assert set(events) == {"handle_revoked", "claim_resolved"}
    assert events["handle_revoked"].user == alice.owner
    assert events["claim_resolved"].user == bob.owner
    assert check_now(contender).result == "verified"


def test_a_handle_never_started_is_skipped_by_check_now(admin_client, alice):
    handle = handle_add(entry=alice, kind="web", raw="https://alice.test/")
    response = admin_client.post(
        reverse("admin:verification_verificationqueueitem_changelist") + "?status=all",
        {"action": "check_now", "_selected_action": [handle.pk]},
        follow=True,
    )
    assertContains(response, "1 handle(s) have no proof to look for")


def test_contested_claims_are_a_moderation_queue(
    dns, alice, bob, claim, check_now, django_user_model
):
    """The dashboard counts open contested claims for moderators; only senior moderators
    may resolve them."""
    from django.contrib.auth.models import Group

    from directory.moderation.queues import queue_summaries

    held, alice_token = claim(alice, "domain", "alice.example")
    contender, bob_token = claim(bob, "domain", "alice.example")
    dns.set("_worldbook.alice.example", "TXT", alice_token, bob_token)
    check_now(held)
    check_now(contender)
    moderator = django_user_model.objects.create_user("mod", "mod@example.org", "x", is_staff=True)
    moderator.groups.add(Group.objects.get(name="Moderators"))
    senior = django_user_model.objects.create_user("sen", "sen@example.org", "x", is_staff=True)
    senior.groups.add(Group.objects.get(name="Senior moderators"))

    summary = {s.queue.key: s for s in queue_summaries(moderator)}["contested"]
    assert summary.count == 1
    assert summary.oldest == ContestedClaim.objects.get().created_at
    assert summary.url == "/admin/verification/contestedclaim/?status__exact=open"
    assert moderator.has_perm("verification.view_contestedclaim")
    assert not moderator.has_perm("verification.change_contestedclaim")
    assert senior.has_perm("verification.change_contestedclaim")


def _staff(django_user_model, name: str, group: str | None = None):
    from django.contrib.auth.models import Group, Permission

    from directory.moderation.tests.fixtures import admin_client_for

    user = django_user_model.objects.create_user(name, f"{name}@example.org", "x", is_staff=True)
    if group is not None:
        user.groups.add(Group.objects.get(name=group))
    else:
        user.user_permissions.add(
            Permission.objects.get(codename="view_verificationqueueitem")
        )
    return admin_client_for(user)


@pytest.mark.parametrize("group", ["Moderators", "Senior moderators"])
def test_moderators_may_check_now_from_the_page_and_in_bulk(
    dns, queue, django_user_model, django_capture_on_commit_callbacks, group
):
    client = _staff(django_user_model, "mod", group)
    handle = queue[0]
    change = reverse("admin:verification_verificationqueueitem_change", args=[handle.pk])
    assertContains(client.get(change), "Check now")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:verification_verificationqueueitem_check_now", args=[handle.pk]),
            follow=True,
        )
    assertContains(response, f"Queued a check of {handle}.")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:verification_verificationqueueitem_changelist"),
            {"action": "check_now", "_selected_action": [h.pk for h in queue]},
            follow=True,
        )
    assertContains(response, "Queued 8 check(s).")


def test_staff_without_the_check_permission_get_no_button_and_a_clear_refusal(
    queue, django_user_model
):
    client = _staff(django_user_model, "viewer")
    handle = queue[0]
    change = reverse("admin:verification_verificationqueueitem_change", args=[handle.pk])
    page = client.get(change)
    assert page.status_code == 200
    assert "Check now" not in page.content.decode()
    checks_before = handle.verification_checks.count()

    response = client.post(
        reverse("admin:verification_verificationqueueitem_check_now", args=[handle.pk]),
        follow=True,
    )

    assert response.redirect_chain[-1][0] == change
    assertContains(response, "You may not ask for verification checks")
    assert handle.verification_checks.count() == checks_before


def test_the_bulk_check_is_bounded(admin_client, queue, monkeypatch):
    from directory.verification import admin as verification_admin

    monkeypatch.setattr(verification_admin, "MAX_BULK_CHECKS", 5)
    response = admin_client.post(
        reverse("admin:verification_verificationqueueitem_changelist"),
        {"action": "check_now", "_selected_action": [h.pk for h in queue]},
        follow=True,
    )
    assertContains(response, "Nothing was queued: select at most 5 handles at a time (8 selected).")
    assert VerificationCheck.objects.filter(trigger="moderator").count() == 0
