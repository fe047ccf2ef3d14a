"""Owner pages of handle verification, mounted at ``/account/``."""

from django.urls import path

from directory.verification import views

app_name = "verification"

urlpatterns = [
    path("entries/<str:handle>/verification", views.verification_page, name="page"),
    path(
        "entries/<str:handle>/handles/<int:handle_id>/proof",
        views.proof_page,
        name="proof",
    ),
]
