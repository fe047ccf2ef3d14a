"""Data-rights pages, mounted at ``/account/data``."""

from django.urls import path

from accounts import data_views

app_name = "data_rights"

urlpatterns = [
    path("", data_views.data_page, name="page"),
    path("/export.json", data_views.export_json, name="export-json"),
    path("/export.vcf", data_views.export_vcard, name="export-vcard"),
    path("/delete", data_views.delete_page, name="delete"),
]
