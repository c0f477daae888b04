from django.apps import AppConfig
from django.db import connections
from django.db.models.signals import post_migrate


def _install_search(sender, using, **kwargs):
    from studio import search

    search.install(connections[using])
    search.ensure_schedule()


class StudioConfig(AppConfig):
    name = "studio"
    verbose_name = "Studio"

    def ready(self):
        from studio import checks  # noqa: F401  (registers the deploy checks)

        post_migrate.connect(_install_search, sender=self, dispatch_uid="studio.search.install")
