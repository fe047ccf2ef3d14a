"""Pages of the phone-number features."""

from django.urls import path

from directory.numbers import views

app_name = "numbers"

urlpatterns = [
    path("account/numbers", views.numbers_page, name="list"),
    path("account/numbers/send", views.send_code_view, name="send"),
    path("account/numbers/verify", views.verify_view, name="verify"),
    path("account/numbers/<int:number_id>/retire", views.retire_view, name="retire"),
    path("account/numbers/<int:number_id>/audience", views.audience_view, name="audience"),
    path(
        "account/numbers/notices/<int:notice_id>/dismiss",
        views.notice_dismiss_view,
        name="notice-dismiss",
    ),
    path("discover", views.discover_page, name="discover"),
]
