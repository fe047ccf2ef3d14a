"""The moderator roles: groups "Moderators" and "Senior moderators" with their permissions.

Moderators work the queues: they suspend entries, revoke verifications, hide endpoints and
dismiss reports and suspects, and read entries, handles, endpoints and the audit trail.
Senior moderators may also restore a suspended entry, reserve a handle and decide appeals.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATORS = "Moderators"
SENIOR_MODERATORS = "Senior moderators"

MODERATOR_PERMISSIONS = [
    ("moderation", "suspend_entry"),
    ("moderation", "revoke_verification"),
    ("moderation", "hide_endpoint"),
    ("moderation", "dismiss_report"),
    ("moderation", "view_reportcase"),
    ("moderation", "view_report"),
    ("moderation", "view_impersonationsuspect"),
    ("moderation", "view_appeal"),
    ("moderation", "view_moderationaction"),
    ("moderation", "view_ownernotice"),
    ("moderation", "view_reservedname"),
    ("directory", "view_entry"),
    ("directory", "view_handle"),
    ("directory", "view_endpoint"),
    ("accounts", "view_auditevent"),
    ("accounts", "view_user"),
]
SENIOR_EXTRA = [
    ("moderation", "restore_entry"),
    ("moderation", "reserve_handle"),
    ("moderation", "decide_appeal"),
    ("moderation", "add_reservedname"),
]


def create_groups(apps, schema_editor):
    # Permissions are normally made after the whole migrate run; the groups need them now.
    # A migration's app configs are stubs; create_permissions only asks whether they
    # have models. (Tests that flush the database call this with the real registry.)
    for label in ("moderation", "directory", "accounts"):
        app_config = apps.get_app_config(label)
        stub = getattr(app_config, "models_module", None) is None
        if stub:
            app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        if stub:
            app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(pairs):
        found = []
        for app_label, codename in pairs:
            found.append(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )
        return found

    moderators, _ = Group.objects.get_or_create(name=MODERATORS)
    moderators.permissions.add(*permissions(MODERATOR_PERMISSIONS))
    seniors, _ = Group.objects.get_or_create(name=SENIOR_MODERATORS)
    seniors.permissions.add(*permissions(MODERATOR_PERMISSIONS + SENIOR_EXTRA))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(
        name__in=[MODERATORS, SENIOR_MODERATORS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0001_initial"),
        ("directory", "0002_entry_findable_by_number"),
        ("accounts", "0005_audit_moderation"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
