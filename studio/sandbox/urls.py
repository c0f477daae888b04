"""The sandbox API, mounted at /sandbox/v1/ by studio/urls.py when SANDBOX_ENABLED is on."""

from django.urls import path, re_path

from studio.sandbox import views

app_name = "sandbox"

urlpatterns = [
    path("models", views.list_models, name="models"),
    path("files", views.upload, name="upload"),
    path("files/<str:file_id>", views.serve_file, name="file"),
    path("video/generations", views.create_generation, name="create"),
    path("video/generations/<str:task_id>", views.generation, name="generation"),
    path("media/<str:task_id>.mp4", views.serve_media, name="media"),
    re_path(r"^(?P<path>.*)$", views.not_found),  # JSON 404s, like the real API
]
