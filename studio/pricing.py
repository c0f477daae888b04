"""The price table and quotes: what a generation is estimated to cost.

RelayDance bills a video per clip, by model, resolution and length, and never bills a failed
task. Studio keeps its own table of *estimates* (staff edit it in the admin); the real prices
are on RelayDance's pricing page and console. A generation stores its estimate when it is
created, so a later price edit never rewrites what was already spent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.utils.formats import number_format
from django.utils.translation import gettext_lazy as _

from studio import catalogue

PLACES = Decimal("0.0001")  # what a stored estimate keeps
_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£", "CNY": "¥", "JPY": "¥"}


class Price(models.Model):
    """One rate: per second or per clip, for a model id, optionally for one resolution and
    with or without audio. The most specific row wins; an empty model is the fallback for
    models without rows of their own."""

    class Unit(models.TextChoices):
        SECOND = "second", _("per second")
        CLIP = "clip", _("per clip")

    class Audio(models.TextChoices):
        ANY = "", _("with or without audio")
        WITH = "with", _("with audio")
        WITHOUT = "without", _("silent")

    model = models.CharField(
        _("model id"), max_length=100, blank=True, help_text=_("Empty: any model that has no price of its own.")
    )
    resolution = models.CharField(_("resolution"), max_length=16, blank=True, help_text=_("Empty: any resolution."))
    audio = models.CharField(_("audio"), max_length=8, blank=True, choices=Audio.choices, default=Audio.ANY)
    unit = models.CharField(_("unit"), max_length=8, choices=Unit.choices, default=Unit.SECOND)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=4, validators=[MinValueValidator(0)])
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        app_label = "studio"
        ordering = ["model", "resolution", "audio"]
        verbose_name = _("price")
        verbose_name_plural = _("prices")
        constraints = [models.UniqueConstraint(fields=["model", "resolution", "audio"], name="one_price_per_case")]

    def __str__(self) -> str:
        return f"{self.model or '*'} {self.resolution or '*'} {self.audio or '*'}: {self.rate_label}"

    @property
    def rate_label(self) -> str:
        if self.unit == self.Unit.SECOND:
            return _("%(amount)s / s") % {"amount": money(self.amount, places=3)}
        return _("%(amount)s / clip") % {"amount": money(self.amount)}

    def cost(self, seconds: int) -> Decimal:
        total = self.amount * seconds if self.unit == self.Unit.SECOND else self.amount
        return total.quantize(PLACES, rounding=ROUND_HALF_UP)


def currency() -> str:
    return getattr(settings, "PRICE_CURRENCY", "USD")


def money(amount: Decimal | None, places: int = 2) -> str:
    """An amount in the app's currency for people, e.g. "$1.25" (numbers in the active locale)."""
    if amount is None:
        return "—"
    code = currency()
    shown = number_format(Decimal(amount), decimal_pos=places, use_l10n=True)
    symbol = _SYMBOLS.get(code)
    return f"{symbol}{shown}" if symbol else f"{shown} {code}"


@dataclass(frozen=True)
class Settings:
    """What a price depends on, normalised as the form would send it."""

    model: str
    seconds: int
    resolution: str
    audio: bool


def normalise(model: str, seconds, resolution: str | None, audio) -> Settings:
    """The settings as they would be sent: the model's resolution and audio rules applied, the
    length kept within the model's range. Never raises (a quote is shown while typing)."""
    spec = catalogue.get_spec(model or "")
    try:
        length = int(seconds)
    except (TypeError, ValueError):
        length = spec.default_seconds
    length = max(spec.min_seconds, min(length, spec.max_seconds, catalogue.HARD_MAX_SECONDS))
    with_audio = spec.audio == "always" or (spec.audio == "toggle" and bool(audio))
    return Settings(model or "", length, catalogue.resolution_for(spec, resolution), with_audio)


def price_for(model: str, resolution: str, audio: bool) -> Price | None:
    """The most specific price row for these settings, in one query (None: nothing fits)."""
    rows = Price.objects.filter(
        model__in=[model, ""],
        resolution__in=[resolution, ""],
        audio__in=[Price.Audio.WITH if audio else Price.Audio.WITHOUT, Price.Audio.ANY],
    )
    return max(rows, key=lambda row: (row.model != "", row.resolution != "", row.audio != ""), default=None)


@dataclass(frozen=True)
class Quote:
    settings: Settings
    price: Price | None

    @property
    def amount(self) -> Decimal | None:
        return self.price.cost(self.settings.seconds) if self.price else None

    @property
    def label(self) -> str:
        return money(self.amount)


def quote(model: str, seconds, resolution: str | None, audio) -> Quote:
    chosen = normalise(model, seconds, resolution, audio)
    return Quote(chosen, price_for(chosen.model, chosen.resolution, chosen.audio))


def estimate(model: str, seconds: int, resolution: str, audio: bool) -> Decimal | None:
    """The estimated cost to store on a new generation (None when no price fits)."""
    price = price_for(model, resolution, audio)
    return price.cost(seconds) if price else None
