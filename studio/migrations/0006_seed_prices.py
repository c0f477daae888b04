"""Seed the price table with estimates, and give existing generations their estimated cost.

The figures are rough estimates in USD, not RelayDance's prices (those are on its pricing
page and console); staff correct them in the admin. A row with an empty model prices any
model that has none of its own.
"""

from decimal import Decimal

from django.db import migrations

# (model id, resolution or "", audio "with"/"without"/"", unit, amount)
PRICES = [
    ("doubao-seedance-2-0-1080p", "", "without", "second", "0.2000"),
    ("doubao-seedance-2-0-1080p", "", "with", "second", "0.2500"),
    ("doubao-seedance-2-0-720p", "", "without", "second", "0.1000"),
    ("doubao-seedance-2-0-720p", "", "with", "second", "0.1250"),
    ("doubao-seedance-2-0-fast-260128", "480p", "", "second", "0.0400"),
    ("doubao-seedance-2-0-fast-260128", "720p", "", "second", "0.0600"),
    ("seedance-1-5-pro-with-audio", "480p", "", "second", "0.0300"),
    ("seedance-1-5-pro-with-audio", "720p", "", "second", "0.0500"),
    ("seedance-1-5-pro-with-audio", "1080p", "", "second", "0.1000"),
    ("seedance-1-5-pro-no-audio", "480p", "", "second", "0.0200"),
    ("seedance-1-5-pro-no-audio", "720p", "", "second", "0.0350"),
    ("seedance-1-5-pro-no-audio", "1080p", "", "second", "0.0700"),
    ("happyhorse-1.0-i2v", "720p", "", "clip", "0.3000"),
    ("happyhorse-1.0-i2v", "1080p", "", "clip", "0.5000"),
    ("happyhorse-1.0-t2v", "", "", "clip", "0.3000"),
    ("grok-imagine-video", "", "", "clip", "0.2500"),
    ("grok-imagine-video-1.5-preview", "", "", "clip", "0.4000"),
    ("", "", "", "second", "0.1000"),
]


def seed(apps, schema_editor):
    Price = apps.get_model("studio", "Price")
    Generation = apps.get_model("studio", "Generation")
    for model, resolution, audio, unit, amount in PRICES:
        Price.objects.get_or_create(
            model=model, resolution=resolution, audio=audio, defaults={"unit": unit, "amount": Decimal(amount)}
        )
    prices = list(Price.objects.all())

    def best(model, resolution, with_audio):
        fits = [
            p for p in prices
            if p.model in (model, "") and p.resolution in (resolution, "")
            and p.audio in ("with" if with_audio else "without", "")
        ]
        return max(fits, key=lambda p: (p.model != "", p.resolution != "", p.audio != ""), default=None)

    # One update per distinct setting (a few dozen), not one per generation.
    settings = Generation.objects.filter(estimated_cost__isnull=True).values_list(
        "model", "resolution", "generate_audio", "seconds"
    ).distinct()
    for model, resolution, with_audio, seconds in settings:
        price = best(model, resolution, with_audio)
        if price is None:
            continue
        cost = price.amount * seconds if price.unit == "second" else price.amount
        Generation.objects.filter(
            estimated_cost__isnull=True, model=model, resolution=resolution, generate_audio=with_audio, seconds=seconds
        ).update(estimated_cost=cost.quantize(Decimal("0.0001")))


class Migration(migrations.Migration):
    dependencies = [("studio", "0005_prices_and_costs")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
