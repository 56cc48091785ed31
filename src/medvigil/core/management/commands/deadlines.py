"""`medvigil deadlines rules` and `medvigil deadlines compute RULE --start ISO` (PLAT-7).

$ medvigil deadlines rules
cn.death	CN	7	calendar_days	《医疗器械不良事件监测和再评价管理办法》(2019) 第二十五条: ...
$ medvigil deadlines compute us.mdr_5wd --start 2026-11-24T10:00-05:00
2026-12-02T23:59:59-05:00
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from medvigil.core.calendar.rules import all_rules, compute, get_rule
from medvigil.core.calendar.working import CalendarNotFound


class Command(BaseCommand):
    help = (
        "Deadline rules: 'rules' lists every rule with its citation; 'compute' gives a due moment."
    )

    def add_arguments(self, parser: Any) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("rules", help="one rule per line: code, market, amount, unit, citation")
        comp = sub.add_parser("compute", help="the due moment of RULE for a clock start")
        comp.add_argument("rule", help="rule code, e.g. us.mdr_5wd")
        comp.add_argument(
            "--start",
            required=True,
            help="start event, ISO-8601 with offset: 2026-02-12T10:00+08:00",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        if opts["action"] == "rules":
            for rule in all_rules():
                self.stdout.write(
                    "\t".join(
                        [rule.code, rule.market, str(rule.amount), str(rule.unit), rule.citation]
                    )
                )
            return
        try:
            rule = get_rule(opts["rule"])
        except LookupError as exc:
            raise CommandError(str(exc)) from None
        try:
            start = dt.datetime.fromisoformat(opts["start"])
        except ValueError:
            raise CommandError(
                f"--start {opts['start']!r} is not an ISO-8601 date-time such as "
                "2026-02-12T10:00+08:00"
            ) from None
        if start.tzinfo is None:
            raise CommandError("--start needs its offset, e.g. 2026-02-12T10:00+08:00")
        try:
            result = compute(rule, start)
        except CalendarNotFound as exc:
            raise CommandError(str(exc)) from None
        if result.due_at is None:
            raise CommandError(
                f"year not loaded: the {rule.market} calendar has no data for "
                f"{result.missing_year}; the deadline cannot be computed"
            )
        self.stdout.write(result.due_at.isoformat(timespec="seconds"))
