from django.apps import AppConfig


class VerificationConfig(AppConfig):
    name = "directory.verification"
    label = "verification"
    verbose_name = "Handle verification"
    default_auto_field = "django.db.models.BigAutoField"
