from django.urls import path

from transparency import views

app_name = "transparency"

urlpatterns = [
    path("", views.log_index, name="log"),
    path("checkpoint", views.checkpoint, name="checkpoint"),
]
