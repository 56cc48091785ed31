"""Market calendars as data (PLAT-7): one calendar per market with its IANA zone, and one
row per loaded year holding that year's holidays and make-up working days.

A year is *loaded* when it has a :class:`CalendarYear` row; working-day arithmetic refuses
a year that is not loaded (it never falls back to Monday–Friday). The year's days are kept
together in one audited row, so the audit trail of a correction shows the whole year before
and after it, and re-entering a year never deletes rows.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from medvigil.core.audit.models import AuditedModel

HOLIDAY = "holiday"
WORKDAY = "workday"


class DayKind(models.TextChoices):
    HOLIDAY = HOLIDAY, _("holiday")
    WORKDAY = WORKDAY, _("make-up working day")


def validate_zone(value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(
            _("%(zone)s is not an IANA time zone such as Asia/Shanghai."), params={"zone": value}
        ) from None


class MarketCalendar(AuditedModel):
    code = models.CharField(
        _("market"),
        max_length=8,
        unique=True,
        help_text=_("Country code of the market, e.g. CN, US, DE."),
    )
    name = models.CharField(_("name"), max_length=100)
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        validators=[validate_zone],
        help_text=_("Day-counted deadlines end at midnight in this zone."),
    )

    class Meta:
        app_label = "core"
        ordering = ["code"]
        verbose_name = _("market calendar")
        verbose_name_plural = _("market calendars")

    def __str__(self) -> str:
        return f"{self.code} · {self.display_name}"

    def get_absolute_url(self) -> str:
        return reverse("calendar_list")

    @property
    def display_name(self) -> str:
        """The name in the reader's language (the built-in calendars' names are translated;
        a name an administrator typed is shown as typed)."""
        return gettext(self.name)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


class CalendarYear(AuditedModel):
    """One loaded year of a market calendar: its holidays and make-up working days.

    ``days`` is a list of ``{"date": "YYYY-MM-DD", "kind": "holiday"|"workday",
    "name": "..."}``, sorted by date. Weekdays not listed are working days, Saturdays and
    Sundays not listed are days off."""

    calendar = models.ForeignKey(
        MarketCalendar,
        on_delete=models.PROTECT,
        related_name="years",
        verbose_name=_("market calendar"),
    )
    year = models.PositiveSmallIntegerField(_("year"))
    days = models.JSONField(_("holidays and make-up working days"), default=list, blank=True)
    source = models.CharField(
        _("source"),
        max_length=300,
        help_text=_(
            "Where the days come from, e.g. the State Council notice 国办发明电〔2025〕7号."
        ),
    )
    loaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("loaded by"),
    )
    loaded_at = models.DateTimeField(_("loaded"))

    class Meta:
        app_label = "core"
        ordering = ["calendar__code", "year"]
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        constraints = [
            models.UniqueConstraint(fields=["calendar", "year"], name="calendar_year_unique")
        ]

    def __str__(self) -> str:
        return f"{self.calendar.code} {self.year}"

    def entries(self) -> list[dict[str, Any]]:
        return sorted(self.days or [], key=lambda d: d["date"])

    url_related = ("calendar",)

    def get_absolute_url(self) -> str:
        return reverse("calendar_year", args=[self.calendar.code, self.year])

    @property
    def loaded_by_name(self) -> str:
        if self.loaded_by is None:
            return str(_("the system (seeded from a library)"))
        return str(getattr(self.loaded_by, "printed_name", "") or self.loaded_by)
