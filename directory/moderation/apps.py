"""Moderation: reports, impersonation queues, actions and appeals."""

from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "directory.moderation"
    label = "moderation"
    verbose_name = "Moderation"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from directory.moderation import signals  # noqa: F401  (connects the receivers)
