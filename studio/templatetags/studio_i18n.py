"""Template filters that show stored English values in the viewer's language."""

from django import template

from studio import catalogue
from studio.failures import failure_text

register = template.Library()


@register.filter
def failure(generation) -> str:
    """A failed generation's error in the active language, its values filled in ("" if none)."""
    return failure_text(generation.error, generation.error_args)


@register.filter
def ratio_label(ratio: str) -> str:
    return catalogue.ratio_label(ratio)


@register.filter
def model_label(model_id: str) -> str:
    """A model's display name in the active language ("HappyHorse 1.0 图生视频")."""
    return catalogue.get_spec(model_id).display_label if model_id else ""
