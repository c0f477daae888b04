from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from studio import generate, hooks, usage_views, views

studio_patterns = [
    path("", views.home, name="home"),
    path("gallery/", views.gallery, name="gallery"),
    path("live/", views.live, name="live"),
    path("generate/", generate.create, name="create"),
    path("g/<uuid:code>/", views.detail, name="detail"),
    path("g/<uuid:code>/video.mp4", views.video, name="video"),
    path("g/<uuid:code>/poster.jpg", views.poster, name="poster"),
    path("g/<uuid:code>/references/<int:pk>/", views.reference_file, name="reference_file"),
    path("g/<uuid:code>/favourite/", views.favourite, name="favourite"),
    path("g/<uuid:code>/delete/", views.delete, name="delete"),
    path("g/<uuid:code>/retry/", generate.retry, name="retry"),
    path("g/<uuid:code>/remix/", generate.remix, name="remix"),
    path("usage/", usage_views.usage_page, name="usage"),
    path("usage/export.csv", usage_views.usage_export, name="usage_export"),
    path("usage/budget/", usage_views.my_budget, name="my_budget"),
    path("usage/team/<uuid:code>/budget/", usage_views.team_budget, name="team_budget"),
    path("quote/", usage_views.quote, name="quote"),
]

urlpatterns = [
    path("", include((studio_patterns, "studio"))),
    path("accounts/", include("accounts.urls")),
    path("hooks/relaydance/<str:token>/", hooks.relaydance_hook, name="relaydance_hook"),
    path("health", views.health, name="health"),
    path("admin/", admin.site.urls),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/v1/", include("studio.sandbox.urls")))
