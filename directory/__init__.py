"""Worldbook: the Django project and the directory's core domain."""

from .celery import app as celery_app

__all__ = ("celery_app",)
