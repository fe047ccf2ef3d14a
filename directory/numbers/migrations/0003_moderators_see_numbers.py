"""Moderators see the phone-number admin (linked numbers and retired-number records) and
may "end forwarding now", a permission of its own; senior moderators may do the same."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATOR_PERMISSIONS = [
    ("numbers", "view_linkednumber"),
    ("numbers", "view_retirednumber"),
    ("numbers", "end_forwarding"),
]
GROUPS = ["Moderators", "Senior moderators"]


def grant(apps, schema_editor):
    app_config = apps.get_app_config("numbers")
    stub = getattr(app_config, "models_module", None) is None
    if stub:
        app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    if stub:
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = [
        Permission.objects.get(content_type__app_label=label, codename=codename)
        for label, codename in MODERATOR_PERMISSIONS
    ]
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.add(*wanted)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = Permission.objects.filter(
        content_type__app_label="numbers",
        codename__in=[codename for _, codename in MODERATOR_PERMISSIONS],
    )
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(*wanted)


class Migration(migrations.Migration):
    dependencies = [
        ("numbers", "0002_send_account"),
        ("moderation", "0002_moderator_groups"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="linkednumber",
            options={
                "ordering": ["-linked_at", "-id"],
                "permissions": [("end_forwarding", "Can end a number's forwarding now")],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
