"""Pages of market calendars and deadline rules (PLAT-7). Reading needs
core.view_marketcalendar (quality, administrators, auditors and managers hold it); entering a
year needs core.change_marketcalendar and goes through services.enter_year."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.signals import post_migrate
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods

from medvigil.core.permissions import permission_required
from medvigil.core.registry import NavItem, WorkItem, register_nav, register_work

from .models import WORKDAY, CalendarYear, DayKind, MarketCalendar
from .rules import all_rules
from .services import CHANGE_PERM, VIEW_PERM, enter_year, format_day_lines, missing_next_year

KIND_LABELS = dict(DayKind.choices)


class YearForm(forms.Form):
    days = forms.CharField(
        label=gettext_lazy("Holidays and make-up working days"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 14, "class": "font-monospace", "spellcheck": "false"}),
        help_text=gettext_lazy(
            "One day per line: YYYY-MM-DD holiday|workday name, e.g. “2027-02-06 holiday 春节” "
            "or “2027-02-20 workday 春节 (调休)”. Weekdays not listed are working days; "
            "Saturdays and Sundays not listed are days off."
        ),
    )
    # Required-ness is checked by services.enter_year, so that every error shows at once.
    source = forms.CharField(
        label=gettext_lazy("Source"),
        required=False,
        max_length=300,
        help_text=gettext_lazy("E.g. the State Council notice: 国办发明电〔2026〕×号."),
    )
    reason = forms.CharField(
        label=gettext_lazy("Reason for the change"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _calendar(code: str) -> MarketCalendar:
    cal = MarketCalendar.objects.filter(code=code.upper()).first()
    if cal is None:
        raise Http404
    return cal


@require_GET
@permission_required(VIEW_PERM)
def calendar_list(request: HttpRequest) -> HttpResponse:
    this_year = timezone.localdate().year
    loaded: dict[int, list[int]] = {}
    for calendar_id, year in CalendarYear.objects.values_list("calendar_id", "year"):
        loaded.setdefault(calendar_id, []).append(year)
    rows = []
    for cal in MarketCalendar.objects.all():
        years = sorted(loaded.get(cal.pk, []))
        rows.append(
            {
                "cal": cal,
                "years": years,
                "first": years[0] if years else None,
                "last": years[-1] if years else None,
                "next_missing": bool(years) and this_year + 1 not in years,
            }
        )
    return render(
        request,
        "core/calendar/list.html",
        {
            "rows": rows,
            "this_year": this_year,
            "next_year": this_year + 1,
            "missing": missing_next_year(),
        },
    )


def _year_context(request: HttpRequest, cal: MarketCalendar, year: int, form: Any) -> dict:
    row = CalendarYear.objects.filter(calendar=cal, year=year).select_related("loaded_by").first()
    days = []
    if row is not None:
        for d in row.entries():
            day = dt.date.fromisoformat(d["date"])
            days.append({**d, "day": day, "label": KIND_LABELS.get(d["kind"], d["kind"])})
    return {
        "cal": cal,
        "year": year,
        "row": row,
        "days": days,
        "holidays": sum(1 for d in days if d["kind"] != WORKDAY),
        "workdays": sum(1 for d in days if d["kind"] == WORKDAY),
        "form": form,
        "can_change": request.user.has_perm(CHANGE_PERM),
        "prev_year": year - 1,
        "next_year": year + 1,
    }


@require_http_methods(["GET", "POST"])
@permission_required(VIEW_PERM)
def calendar_year(request: HttpRequest, code: str, year: int) -> HttpResponse:
    cal = _calendar(code)
    if not 1990 <= year <= 2100:
        raise Http404
    if request.method == "POST":
        if not request.user.has_perm(CHANGE_PERM):
            raise PermissionDenied
        form = YearForm(request.POST)
        if form.is_valid():
            try:
                result = enter_year(
                    cal,
                    year,
                    form.cleaned_data["days"],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    source=form.cleaned_data["source"],
                )
            except ValidationError as exc:
                for name, errors in exc.message_dict.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error)
            else:
                messages.success(
                    request,
                    _("%(code)s %(year)d saved. Open deadlines recomputed: %(count)d.")
                    % {"code": cal.code, "year": year, "count": result.recomputed},
                )
                return redirect("calendar_year", code=cal.code, year=year)
        ctx = _year_context(request, cal, year, form)
        return render(request, "core/calendar/year.html", ctx, status=400)
    blank: YearForm | None = None
    if request.user.has_perm(CHANGE_PERM):
        row = CalendarYear.objects.filter(calendar=cal, year=year).first()
        blank = YearForm(
            initial={
                "days": format_day_lines(row.entries()) if row else "",
                "source": row.source if row else "",
            }
        )
    return render(request, "core/calendar/year.html", _year_context(request, cal, year, blank))


@require_GET
@permission_required(VIEW_PERM)
def deadline_rules(request: HttpRequest) -> HttpResponse:
    zones = dict(MarketCalendar.objects.values_list("code", "time_zone"))
    rows = []
    for rule in all_rules():
        rows.append(
            {
                "rule": rule,
                "zone": zones.get(rule.market, ""),
                "company": rule.company_amount(),
            }
        )
    return render(request, "core/calendar/rules.html", {"rows": rows})


def missing_year_items(user: Any) -> list[WorkItem]:
    """My work for administrators, from 1 November: next year's calendar is missing."""
    if not user.is_authenticated or not user.has_perm(CHANGE_PERM):
        return []
    items = []
    for cal, year in missing_next_year():
        due = dt.datetime.combine(dt.date(year, 1, 1), dt.time(0), tzinfo=cal.zone)
        items.append(
            WorkItem(
                title=_("Enter the %(year)d holidays of the %(code)s calendar")
                % {"year": year, "code": cal.code},
                url=reverse("calendar_year", args=[cal.code, year]),
                kind=gettext_lazy("calendar"),
                due=due,
                detail=_(
                    "Deadlines that reach into %(year)d cannot be computed until the year is "
                    "entered."
                )
                % {"year": year},
            )
        )
    return items


def register_ui(app_config: Any) -> None:
    from .regulatory import register_platform_rules
    from .seed import ensure_calendars

    register_platform_rules()
    register_nav(
        NavItem(gettext_lazy("Market calendars"), "calendar_list", VIEW_PERM, 850, "admin")
    )
    register_nav(NavItem(gettext_lazy("Deadline rules"), "deadline_rules", VIEW_PERM, 851, "admin"))
    register_work(missing_year_items)
    post_migrate.connect(ensure_calendars, sender=app_config, dispatch_uid="medvigil_calendars")
