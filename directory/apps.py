from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "directory"
    verbose_name = "Directory"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Register the directory's system checks and the answer cache's signals."""
        from directory import answer_signals, checks  # noqa: F401

        answer_signals.connect()
