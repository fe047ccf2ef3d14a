"""Moderators see the verification queue, its evidence and contested claims; senior
moderators resolve contested claims (keep the holder, or revoke the holder's verification)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATOR_PERMISSIONS = [
    ("verification", "view_verificationqueueitem"),
    ("verification", "view_verificationcheck"),
    ("verification", "view_contestedclaim"),
]
SENIOR_EXTRA = [("verification", "change_contestedclaim")]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("verification")
    stub = getattr(app_config, "models_module", None) is None
    if stub:
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    if stub:
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")

    def permissions(pairs):
        return [
            Permission.objects.get(content_type__app_label=label, codename=codename)
            for label, codename in pairs
        ]

    for name, pairs in (
        ("Moderators", MODERATOR_PERMISSIONS),
        ("Senior moderators", MODERATOR_PERMISSIONS + SENIOR_EXTRA),
    ):
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(*permissions(pairs))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = Permission.objects.filter(
        content_type__app_label="verification",
        codename__in=[c for _, c in MODERATOR_PERMISSIONS + SENIOR_EXTRA],
    )
    for group in Group.objects.filter(name__in=["Moderators", "Senior moderators"]):
        group.permissions.remove(*wanted)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0003_protected_name_keys_and_action_target"),
        ("verification", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
