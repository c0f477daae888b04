from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from studio import views

studio_patterns = [
    path("", views.home, name="home"),
]

urlpatterns = [
    path("", include((studio_patterns, "studio"))),
    path("accounts/", include("accounts.urls")),
    path("health", views.health, name="health"),
    path("admin/", admin.site.urls),
]

if settings.SANDBOX_ENABLED:
    urlpatterns.append(path("sandbox/v1/", include("studio.sandbox.urls")))
