"""Calendar years seeded from the libraries (PLAT-7): China from `chinesecalendar` (the State
Council notices it transcribes), the United States and EU member states from `holidays`.

Run on every migrate (post_migrate; also after a test flush): creates the missing market
calendars and loads the years the libraries know that are not loaded yet. A year already
loaded — from a library or entered by an administrator — is never overwritten.
EU member states are loaded on demand: ``medvigil calendar seed DE``.
"""

from __future__ import annotations

from importlib.metadata import version
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from .models import HOLIDAY, WORKDAY, CalendarYear, MarketCalendar

FIRST_SEEDED_YEAR = 2018
US_LAST_SEEDED_YEAR = 2030

# code: (name, zone). EU: for Union-wide rules counted in calendar days (no holidays).
BUILT_IN = {
    "CN": (gettext_noop("China (statutory holidays and make-up working days)"), "Asia/Shanghai"),
    "US": (gettext_noop("United States (federal holidays)"), "America/New_York"),
    "EU": (gettext_noop("European Union (calendar days only)"), "Europe/Brussels"),
}

# Member states of the EU, with the zone of the capital.
EU_MEMBER_ZONES = {
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia",
    "HR": "Europe/Zagreb", "CY": "Asia/Nicosia", "CZ": "Europe/Prague",
    "DK": "Europe/Copenhagen", "EE": "Europe/Tallinn", "FI": "Europe/Helsinki",
    "FR": "Europe/Paris", "DE": "Europe/Berlin", "GR": "Europe/Athens",
    "HU": "Europe/Budapest", "IE": "Europe/Dublin", "IT": "Europe/Rome",
    "LV": "Europe/Riga", "LT": "Europe/Vilnius", "LU": "Europe/Luxembourg",
    "MT": "Europe/Malta", "NL": "Europe/Amsterdam", "PL": "Europe/Warsaw",
    "PT": "Europe/Lisbon", "RO": "Europe/Bucharest", "SK": "Europe/Bratislava",
    "SI": "Europe/Ljubljana", "ES": "Europe/Madrid", "SE": "Europe/Stockholm",
}  # fmt: skip

CN_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "中国人民抗日战争暨世界反法西斯战争胜利70周年纪念日",
}


def _cn_name(english: str) -> str:
    zh = CN_NAMES.get(english)
    return f"{zh} {english}" if zh else english


def cn_years() -> list[int]:
    from chinese_calendar.constants import holidays

    last = max(holidays).year
    return list(range(max(FIRST_SEEDED_YEAR, min(holidays).year), last + 1))


def cn_days(year: int) -> list[dict[str, str]]:
    from chinese_calendar.constants import holidays, workdays

    days = [
        {"date": d.isoformat(), "kind": HOLIDAY, "name": _cn_name(str(name))}
        for d, name in holidays.items()
        if d.year == year
    ]
    days += [
        {"date": d.isoformat(), "kind": WORKDAY, "name": _cn_name(str(name))}
        for d, name in workdays.items()
        if d.year == year
    ]
    return sorted(days, key=lambda e: e["date"])


def library_days(code: str, year: int) -> list[dict[str, str]]:
    """Public holidays of country `code` in `year` from `holidays`, observed days included."""
    import holidays

    found = holidays.country_holidays(code, years=year, observed=True)
    return sorted(
        (
            {"date": d.isoformat(), "kind": HOLIDAY, "name": str(name)}
            for d, name in found.items()
            if d.year == year
        ),
        key=lambda e: e["date"],
    )


def library_source(code: str) -> str:
    if code == "CN":
        return f"chinesecalendar {version('chinesecalendar')}"
    return f"holidays {version('holidays')}"


def library_knows(code: str) -> bool:
    if code == "CN":
        return True
    import holidays

    return code in holidays.list_supported_countries()


def ensure_calendar(code: str, name: str = "", zone: str = "") -> MarketCalendar:
    code = code.upper()
    cal = MarketCalendar.objects.filter(code=code).first()
    if cal is not None:
        return cal
    default_name, default_zone = BUILT_IN.get(code, ("", EU_MEMBER_ZONES.get(code, "")))
    if not name:
        name = default_name
        if not name:
            import holidays

            name = holidays.country_holidays(code).__class__.__name__
    zone = zone or default_zone
    if not zone:
        raise ValueError(f"give the time zone of market {code}")
    cal = MarketCalendar(code=code, name=name, time_zone=zone)
    cal.full_clean()
    cal.save()
    return cal


def seed_years(code: str, years: list[int]) -> list[int]:
    """Load the given years of market `code` from its library, skipping years already
    loaded. Returns the years loaded."""
    code = code.upper()
    from .working import invalidate

    loaded: list[int] = []
    with transaction.atomic():
        cal = ensure_calendar(code)
        have = set(CalendarYear.objects.filter(calendar=cal).values_list("year", flat=True))
        source = library_source(code)
        now = timezone.now()
        for year in years:
            if year in have:
                continue
            days = cn_days(year) if code == "CN" else library_days(code, year)
            if code == "CN" and not days:
                continue  # chinesecalendar does not know that year
            CalendarYear.objects.create(
                calendar=cal, year=year, days=days, source=source, loaded_at=now
            )
            loaded.append(year)
    invalidate(code)
    return loaded


def ensure_calendars(sender: Any = None, **kwargs: Any) -> None:
    """post_migrate: the built-in calendars and the years their libraries know."""
    from django.db import connection

    from medvigil.core.audit import audit_context

    if MarketCalendar._meta.db_table not in connection.introspection.table_names():
        return  # migrated backwards past the calendars
    with audit_context(source="defaults"):
        for code in BUILT_IN:
            ensure_calendar(code)
        seed_years("CN", cn_years())
        seed_years("US", list(range(FIRST_SEEDED_YEAR, US_LAST_SEEDED_YEAR + 1)))


def years_arg(first: int, last: int) -> list[int]:
    if last < first:
        raise ValueError("the last year is before the first")
    return list(range(first, last + 1))


__all__ = [
    "BUILT_IN",
    "EU_MEMBER_ZONES",
    "cn_days",
    "cn_years",
    "ensure_calendar",
    "ensure_calendars",
    "library_days",
    "seed_years",
    "years_arg",
]
