from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Audit events for Django's sign-in, sign-out and failed sign-in signals.
        from accounts import signals  # noqa: F401


class WorldbookAdminConfig(admin_apps.AdminConfig):
    """The Django admin, served by a site that requires a verified second factor."""

    default = False
    default_site = "accounts.admin_site.WorldbookAdminSite"
