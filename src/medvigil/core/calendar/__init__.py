"""Market calendars, working-day arithmetic and deadline rules (PLAT-7).

* ``models``: MarketCalendar (a market and its IANA zone) and CalendarYear (one loaded year:
  holidays and make-up working days, its source and who loaded it), both audited.
* ``working``: the working-day arithmetic on those calendars (cached per process);
  ``YearNotLoaded`` when a year is missing.
* ``rules``: the registry of deadline rules with citations, and ``compute``.
* ``services``: entering a year (audited, with a reason) and recomputing open deadlines.
* ``seed``: years loaded from chinesecalendar and holidays on migrate.
* ``views``: the calendars pages, the deadline-rules page, the administrators' My-work item.

The older settings-based clock (``core/calendar/clock.py``) reads its working days from here too.
"""
