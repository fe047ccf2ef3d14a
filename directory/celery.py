"""The Celery application. Workers start it with ``celery -A directory worker``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "directory.settings")

app = Celery("worldbook")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
