"""The browsable API's sign-in and sign-out links (``rest_framework`` namespace), sent to
the site's own pages so there is one sign-in, with its second factor and its limits."""

from django.contrib.auth import views as auth_views
from django.urls import path
from django.views.generic import RedirectView

app_name = "rest_framework"

urlpatterns = [
    path(
        "login/",
        RedirectView.as_view(pattern_name="accounts:login", query_string=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
]
