"""Writes of the moderation console: reports, moderator actions, appeals, notices.

Every moderator action is atomic, needs a reason and the moderator's Django permission
(``moderation.<codename>``, see :class:`ModerationAction.Meta.permissions`), goes through
:mod:`directory.services` (so every surface and, after commit, the search index follow),
writes a :class:`ModerationAction` and an append-only :class:`accounts.models.AuditEvent`
(who, what, when, why, before and after), and tells the entry's owner.
"""

from directory.moderation.services.actions import (
    endpoint_hide,
    entry_restore,
    entry_suspend,
    handle_reserve,
    report_dismiss,
    suspect_dismiss,
    verification_revoke,
)
from directory.moderation.services.appeals import appeal_decide, appeal_file, notice_send
from directory.moderation.services.common import (
    REASON_MAX,
    endpoint_label,
    endpoint_snapshot,
    entry_snapshot,
    handle_label,
    handle_snapshot,
)
from directory.moderation.services.reports import report_file

__all__ = [
    "REASON_MAX",
    "appeal_decide",
    "appeal_file",
    "endpoint_hide",
    "endpoint_label",
    "endpoint_snapshot",
    "entry_restore",
    "entry_snapshot",
    "entry_suspend",
    "handle_label",
    "handle_reserve",
    "handle_snapshot",
    "notice_send",
    "report_dismiss",
    "report_file",
    "suspect_dismiss",
    "verification_revoke",
]
