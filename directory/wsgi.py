"""WSGI entry point (gunicorn directory.wsgi): Django, with anonymous resolve hits answered
from the answer cache in front of it (directory.fastpath)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "directory.settings")
django_application = get_wsgi_application()

from directory.fastpath import ResolveFastPath  # noqa: E402  (needs the settings loaded)

application = ResolveFastPath(django_application)
