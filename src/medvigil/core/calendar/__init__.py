"""Market calendars, working-day arithmetic, deadline rules, the business clock and deadline
alerts (PLAT-7).

* ``models``: MarketCalendar (a market and its IANA zone) and CalendarYear (one loaded year:
  holidays and make-up working days, its source and who loaded it), both audited.
* ``working``: the working-day arithmetic on those calendars (cached per process);
  ``YearNotLoaded`` when a year is missing.
* ``rules``: the registry of deadline rules with citations, and ``compute``.
* ``services``: entering a year (audited, with a reason) and recomputing open deadlines.
* ``seed``: years loaded from chinesecalendar and holidays on migrate.
* ``views``: the calendars pages, the deadline-rules page, the administrators' My-work item.
* ``clock``: ``Clock`` and the ``DeadlineFields`` a record with a deadline carries (due dates
  on the business clock, counted on these calendars with these rules).
* ``deadlines``: the deadline sources domain apps register, and the due-soon, overdue and
  escalation alerts (``check_deadlines``, run by the Huey task every 5 minutes).

Clock and deadlines live here, not in a package beside this one, because they and the
calendar use each other: the clock counts working days on the calendars with their rules,
and ``services.recompute_open_deadlines`` recomputes records' ``DeadlineFields``.
"""
