"""Moderators and senior moderators may ask for a fresh verification check ("Check now"
on a queue item, and the bulk action): one permission for both."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

PERMISSION = ("verification", "check_handle")
GROUPS = ("Moderators", "Senior moderators")


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
    permission = Permission.objects.get(
        content_type__app_label=PERMISSION[0], codename=PERMISSION[1]
    )
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.add(permission)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    wanted = Permission.objects.filter(
        content_type__app_label=PERMISSION[0], codename=PERMISSION[1]
    )
    for group in Group.objects.filter(name__in=GROUPS):
        group.permissions.remove(*wanted)


class Migration(migrations.Migration):
    dependencies = [
        ("moderation", "0005_report_cases_outlive_entries"),
        ("verification", "0002_queue_check_permission"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
