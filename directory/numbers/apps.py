from django.apps import AppConfig


class NumbersConfig(AppConfig):
    name = "directory.numbers"
    label = "numbers"
    verbose_name = "Phone numbers"
    default_auto_field = "django.db.models.BigAutoField"
