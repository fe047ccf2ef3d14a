"""URLs of the owner pages, mounted at ``/account/`` (namespace ``owner``)."""

from django.urls import path

from directory.owner import views

app_name = "owner"

ENTRY = "entries/<str:handle>/"
ENDPOINT = ENTRY + "endpoints/<int:endpoint_id>/"

urlpatterns = [
    path("my-entry", views.my_entry, name="mine"),
    path("handle-check", views.handle_check, name="handle-check"),
    path("entries/new", views.entry_create_page, name="entry-create"),
    path(ENTRY, views.entry_manage_page, name="entry"),
    path(ENTRY + "edit", views.entry_edit_page, name="entry-edit"),
    path(ENTRY + "log", views.entry_log_page, name="entry-log"),
    path(ENTRY + "delete", views.entry_delete_page, name="entry-delete"),
    path(ENTRY + "endpoints/new", views.endpoint_add_page, name="endpoint-add"),
    path(ENDPOINT + "edit", views.endpoint_edit_page, name="endpoint-edit"),
    path(ENDPOINT + "delete", views.endpoint_delete_page, name="endpoint-delete"),
    path(ENDPOINT + "move", views.endpoint_move_view, name="endpoint-move"),
    path(ENTRY + "handles/new", views.handle_add_page, name="handle-add"),
    path(ENTRY + "handles/<int:handle_id>/remove", views.handle_remove_page, name="handle-remove"),
]
