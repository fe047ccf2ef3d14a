"""Public pages of the directory: entry pages, vCards, WebFinger (RFC 7033)."""

from django.urls import path

from directory import views

urlpatterns = [
    # The vCard route comes first: a directory handle cannot end in ".vcf"
    # (directory.normalization), so "/@alice.vcf" always means alice's vCard.
    path("@<str:handle>.vcf", views.entry_vcard_download, name="entry-vcard"),
    path("@<str:handle>", views.entry_page, name="entry"),
    path(".well-known/webfinger", views.webfinger, name="webfinger"),
    path("ns/endpoint", views.endpoint_relation, name="ns-endpoint"),
]
