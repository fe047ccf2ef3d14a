"""API routes of the phone-number features, included under ``/api/v1/``."""

from django.urls import path

from directory.numbers import api

urlpatterns = [
    path("numbers/<str:e164>", api.NumberLookupApi.as_view(), name="number-lookup"),
    path("discover", api.DiscoverApi.as_view(), name="discover"),
    path("entries/<str:handle>/numbers", api.NumbersApi.as_view(), name="entry-numbers"),
    path(
        "entries/<str:handle>/numbers/verify",
        api.NumberVerifyApi.as_view(),
        name="entry-numbers-verify",
    ),
    path(
        "entries/<str:handle>/numbers/<int:number_id>",
        api.NumberApi.as_view(),
        name="entry-number",
    ),
    path(
        "entries/<str:handle>/numbers/<int:number_id>/retire",
        api.NumberRetireApi.as_view(),
        name="entry-number-retire",
    ),
]
