"""Data-rights pages under ``/account/data``; this module is mounted at ``/account/``."""

from django.urls import path

from accounts import data_views

app_name = "data_rights"

urlpatterns = [
    path("data", data_views.data_page, name="page"),
    path("data/export.json", data_views.export_json, name="export-json"),
    path("data/export.vcf", data_views.export_vcard, name="export-vcard"),
    path("data/delete", data_views.delete_page, name="delete"),
]
