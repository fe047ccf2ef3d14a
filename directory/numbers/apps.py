from django.apps import AppConfig


class NumbersConfig(AppConfig):
    name = "directory.numbers"
    label = "numbers"
    verbose_name = "Phone numbers"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the phone-number system checks."""
        from directory.numbers import checks  # noqa: F401
