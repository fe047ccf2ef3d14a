from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "directory"
    verbose_name = "Directory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the directory's system checks."""
        from directory import checks  # noqa: F401
