from django.urls import path, re_path

from transparency import views

app_name = "transparency"

_N = r"(?P<n>(?:x[0-9]{3}/)*[0-9]{3})"
_W = r"(?:\.p/(?P<width>[1-9][0-9]{0,2}))?"

urlpatterns = [
    path("", views.log_index, name="log"),
    path("checkpoint", views.checkpoint, name="checkpoint"),
    path("consistency", views.consistency, name="consistency"),
    path("cosignature", views.cosignature, name="cosignature"),
    re_path(rf"^tile/entries/{_N}{_W}$", views.entries, name="entries"),
    re_path(rf"^tile/(?P<level>0|[1-9][0-9]?)/{_N}{_W}$", views.tile, name="tile"),
]
