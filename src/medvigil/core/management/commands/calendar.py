"""`medvigil calendar ...`: market calendars from the command line (PLAT-7).

$ medvigil calendar add-working-days CN 2026-02-13 2
2026-02-24
$ medvigil calendar show CN 2027
CN 2027: not loaded
$ medvigil calendar seed DE --years 2026-2030     # an EU member state, on demand
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from medvigil.core.audit import audit_context
from medvigil.core.calendar.models import CalendarYear, MarketCalendar
from medvigil.core.calendar.working import CalendarNotFound, YearNotLoaded, get_calendar


def _years(text: str) -> list[int]:
    first, _sep, last = text.partition("-")
    try:
        a = int(first)
        b = int(last) if last else a
    except ValueError:
        raise CommandError(f"--years {text!r}: write a year or a range such as 2026-2030") from None
    if not 1990 <= a <= b <= 2100:
        raise CommandError(f"--years {text!r}: give years between 1990 and 2100, first to last")
    return list(range(a, b + 1))


class Command(BaseCommand):
    help = "Market calendars: add-working-days, show a year, seed a market from its library."

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        add = sub.add_parser("add-working-days", help="the date N working days after DATE")
        add.add_argument("market")
        add.add_argument("date", help="YYYY-MM-DD")
        add.add_argument("n", type=int)
        show = sub.add_parser("show", help="a year's holidays and make-up working days")
        show.add_argument("market")
        show.add_argument("year", type=int)
        seed = sub.add_parser(
            "seed", help="load years from chinesecalendar (CN) or holidays (other countries)"
        )
        seed.add_argument("market")
        seed.add_argument("--years", default="", help="a year or a range, e.g. 2026-2030")
        seed.add_argument("--zone", default="", help="IANA zone of a new market")

    def handle(self, *args: Any, **opts: Any) -> None:
        getattr(self, "do_" + opts["action"].replace("-", "_"))(opts)

    def do_add_working_days(self, opts: dict[str, Any]) -> None:
        try:
            start = dt.date.fromisoformat(opts["date"])
        except ValueError:
            raise CommandError(f"{opts['date']!r} is not a date (YYYY-MM-DD)") from None
        try:
            cal = get_calendar(opts["market"])
            day = cal.add_working_days(start, opts["n"])
        except (CalendarNotFound, YearNotLoaded, ValueError) as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(day.isoformat())

    def do_show(self, opts: dict[str, Any]) -> None:
        code = opts["market"].upper()
        cal = MarketCalendar.objects.filter(code=code).first()
        if cal is None:
            raise CommandError(str(CalendarNotFound(code)))
        row = CalendarYear.objects.filter(calendar=cal, year=opts["year"]).first()
        if row is None:
            self.stdout.write(f"{code} {opts['year']}: not loaded")
            return
        self.stdout.write(
            f"{code} {row.year} ({cal.time_zone}); source: {row.source}; "
            f"loaded by {row.loaded_by_name} on {row.loaded_at:%Y-%m-%d}"
        )
        for d in row.entries():
            day = dt.date.fromisoformat(d["date"])
            self.stdout.write(f"{d['date']} {day:%a} {d['kind']:<7} {d.get('name', '')}")

    def do_seed(self, opts: dict[str, Any]) -> None:
        from medvigil.core.calendar import seed

        code = opts["market"].upper()
        if not seed.library_knows(code):
            raise CommandError(f"the holidays library has no calendar for {code!r}")
        this = dt.date.today().year
        years = _years(opts["years"]) if opts["years"] else [this, this + 1]
        with audit_context(source="command:calendar"):
            try:
                if opts["zone"] and not MarketCalendar.objects.filter(code=code).exists():
                    seed.ensure_calendar(code, zone=opts["zone"])
                loaded = seed.seed_years(code, years)
            except ValueError as exc:
                raise CommandError(str(exc)) from None
        if loaded:
            self.stdout.write(f"{code}: loaded {', '.join(map(str, loaded))}")
        else:
            self.stdout.write(f"{code}: nothing to load (those years are loaded or unknown)")
