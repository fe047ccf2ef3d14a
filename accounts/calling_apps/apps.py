from django.apps import AppConfig


class CallingAppsConfig(AppConfig):
    name = "accounts.calling_apps"
    label = "calling_apps"
    verbose_name = "Calling apps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Audit events for tokens django-oauth-toolkit grants.
        from accounts.calling_apps import signals  # noqa: F401
