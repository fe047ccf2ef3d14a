"""API routes of handle verification, mounted inside ``/api/v1/``."""

from django.urls import path

from directory.verification import api

PREFIX = "entries/<str:handle>/handles/<int:handle_id>/verification"

urlpatterns = [
    path(PREFIX, api.VerificationApi.as_view(), name="handle-verification"),
    path(f"{PREFIX}/check", api.VerificationCheckApi.as_view(), name="handle-verification-check"),
    path(f"{PREFIX}/code", api.VerificationCodeApi.as_view(), name="handle-verification-code"),
    path(
        f"{PREFIX}/checks", api.VerificationChecksApi.as_view(), name="handle-verification-checks"
    ),
]
