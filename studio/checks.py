from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.security, deploy=True)
def sandbox_off_in_production(app_configs, **kwargs):
    """The sandbox accepts any sk-sandbox- key: never leave it on for a public site."""
    if settings.SANDBOX_ENABLED and not settings.DEBUG:
        return [checks.Warning(
            "SANDBOX_ENABLED is on with DEBUG off: anyone can use the fake upstream.",
            hint="Unset SANDBOX_ENABLED in production.", id="studio.W001",
        )]
    return []
