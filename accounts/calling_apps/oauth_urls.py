"""django-oauth-toolkit's endpoints, mounted at ``/o/``: authorize, token, revoke,
introspect (RFC 6749 §3, RFC 7009, RFC 7662). Its own application-management pages are
left out: developers manage apps at ``/account/apps``."""

from django.urls import path
from oauth2_provider import views

app_name = "oauth2_provider"

urlpatterns = [
    path("authorize/", views.AuthorizationView.as_view(), name="authorize"),
    path("token/", views.TokenView.as_view(), name="token"),
    path("revoke_token/", views.RevokeTokenView.as_view(), name="revoke-token"),
    path("introspect/", views.IntrospectTokenView.as_view(), name="introspect"),
]
