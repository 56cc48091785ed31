"""Pages of the vigilance app (included at /vigilance/): the event list (RecordList) with the
complaints waiting to be handed over, the event page ({% record_panels %}) with its decisions
and reports, create and edit (the kit's create_record / edit_record), the signed decisions and
submissions (signed_action), the report page and the countdown board."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medvigil.core.models import ConflictError, Signature
from medvigil.core.permissions import get_object_for_user, permission_required, scope_for_user
from medvigil.core.records.forms import ReasonForm
from medvigil.core.records.lists import Column, Filter, RecordList
from medvigil.core.records.render import esc, link, pk_url
from medvigil.core.records.views import create_record, edit_record, signed_action
from medvigil.core.signatures.services import signature_lines
from medvigil.core.templatetags.records import signature_dialog_context
from medvigil.trace.models import Product

from .forms import (
    BaselineForm,
    ClusterForm,
    EventForm,
    FollowUpForm,
    PeriodicForm,
    ReportForm,
    TrendReportForm,
)
from .models import (
    PATIENT_PERM,
    AdverseEvent,
    Market,
    Outcome,
    PeriodicObligation,
    ReportabilityDecision,
    TrendBaseline,
    TrendReport,
    TrendSignal,
    VigilanceReport,
    content_sections,
)
from .rules import reportability_rule, rule_title
from .services import board as board_svc
from .services import decisions as dec_svc
from .services import events as ev_svc
from .services import periodic as per_svc
from .services import reports as rep_svc
from .services import trends as trend_svc
from .templatetags.vigilance_tags import clock, countdown, percent

MASK = "***"


def _markets(o: AdverseEvent) -> str:
    return ", ".join(o.markets)


class EventList(RecordList):
    model = AdverseEvent
    template = "vigilance/event_list.html"
    table_template = "vigilance/_event_table.html"
    search_fields = ("number", "title", "device_text", "udi_text", "source_reference")
    filters = (
        Filter(
            "status",
            gettext_lazy("Status"),
            [("", gettext_lazy("All")), *AdverseEvent.Status.choices],
        ),
        Filter("outcome", gettext_lazy("Outcome"), [("", gettext_lazy("All")), *Outcome.choices]),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda o: o.number, sort="number"),
        "aware": Column(
            gettext_lazy("Aware at"), lambda o: o.aware_at.isoformat(), sort="aware_at"
        ),
        "title": Column(gettext_lazy("Subject"), lambda o: o.title, sort="title"),
        "outcome": Column(
            gettext_lazy("Outcome"), lambda o: o.get_outcome_display(), sort="outcome"
        ),
        "product": Column(
            gettext_lazy("Product"), lambda o: str(o.product) if o.product_id else o.device_text
        ),
        "markets": Column(gettext_lazy("Markets"), _markets),
        "status": Column(gettext_lazy("Status"), lambda o: o.get_status_display(), sort="status"),
    }
    default_sort = "-aware_at"
    export_name = "adverse-events"

    def queryset(self) -> QuerySet:
        return super().queryset().select_related("product")

    def extra_context(self, page: Any) -> dict[str, Any]:
        handoffs: list[Any] = []
        if self.user.has_perm(ev_svc.ADD_PERM) and self.user.has_perm("complaints.view_feedback"):
            from medvigil.complaints.models import Evaluation, Feedback, Handoff

            feedback = scope_for_user(self.user, Feedback)
            handoffs = list(
                Evaluation.objects.filter(
                    adverse_event_handoff=Handoff.PENDING, feedback__in=feedback
                )
                .select_related("feedback")
                .order_by("decided_at")[:50]
            )
        return {"may_add": self.user.has_perm(ev_svc.ADD_PERM), "handoffs": handoffs}


event_list = EventList.as_view()


# --- the event page ---------------------------------------------------------------------------


def _patient(obj: AdverseEvent, user: Any) -> list[tuple[Any, Any]]:
    """The patient fields as the user may read them (PLAT-11): masked without the permission."""
    see = user.has_perm(PATIENT_PERM)
    out = []
    for name in AdverseEvent.PATIENT_FIELDS:
        field = AdverseEvent._meta.get_field(name)
        value = getattr(obj, name)
        if name == "patient_sex" and value:
            value = obj.get_patient_sex_display()
        if value in (None, ""):
            value = ""
        elif not see:
            value = MASK
        out.append((field.verbose_name, value))
    return out


def _decision_dialogs(request: HttpRequest, d: ReportabilityDecision, forms: dict) -> dict:
    confirm = signature_dialog_context(
        form_action=reverse("vigilance:decision_confirm", args=[d.pk]),
        meaning=Signature.Meaning.APPROVED,
        csrf_token=get_token(request),
        dialog_id=f"decision-confirm-{d.pk}",
        title=_("Confirm: reportable in %(m)s") % {"m": d.get_market_display()},
        button=_("Confirm reportable (e-signature)"),
        form=forms.get(("confirm", d.pk)),
        submit_label=_("Sign and confirm"),
        version=d.version,
        text=_("You confirm that the event is reportable under %(r)s.")
        % {"r": ", ".join(d.deadline_rules)},
    )
    not_rep = signature_dialog_context(
        form_action=reverse("vigilance:decision_not_reportable", args=[d.pk]),
        meaning=Signature.Meaning.APPROVED,
        csrf_token=get_token(request),
        dialog_id=f"decision-not-{d.pk}",
        title=_("Decide: not reportable in %(m)s") % {"m": d.get_market_display()},
        button=_("Not reportable (basis + e-signature)"),
        button_class="btn-outline-danger",
        form=forms.get(("not", d.pk)),
        comment_required=True,
        comment_label=_("Basis of the decision (kept in the event file, 21 CFR 803.20)"),
        submit_label=_("Sign: not reportable"),
        version=d.version,
    )
    return {"confirm": confirm, "not_reportable": not_rep}


def event_page(
    request: HttpRequest, obj: AdverseEvent, forms: dict | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    forms = forms or {}
    now = timezone.now()
    decisions = list(
        obj.decisions.select_related("decided_by", "supersedes").order_by("market", "id")
    )
    may_decide = user.has_perm(dec_svc.DECIDE_PERM) and obj.is_open
    decision_rows = []
    for d in decisions:
        rule = reportability_rule(d.fired_rule)
        dialogs = (
            _decision_dialogs(request, d, forms) if may_decide and d.status == "proposed" else {}
        )
        decision_rows.append(
            {
                "d": d,
                "rule_label": rule.label if rule else d.proposal_reason,
                "deadline_titles": [(c, rule_title(c)) for c in d.deadline_rules],
                "dialogs": dialogs,
                "signatures": signature_lines(d) if d.decided_at else [],
            }
        )
    reports = list(obj.reports.order_by("market", "id"))
    clocks = (
        [
            (r, r.state(now), r.remaining(now))
            for r in board_svc.board_rows(None, now=now, event=obj)
        ]
        if obj.is_open
        else []
    )
    ctx = {
        "obj": obj,
        "imdrf_terms": ev_svc.imdrf_terms(obj.imdrf_codes),
        "patient": _patient(obj, user),
        "decision_rows": decision_rows,
        "reports": reports,
        "clocks": clocks,
        "now": now,
        "may_change": user.has_perm(ev_svc.CHANGE_PERM) and obj.is_open,
        "may_decide": may_decide,
        "may_follow_up": user.has_perm(rep_svc.ADD_PERM) and obj.is_open,
        "follow_up_form": forms.get("follow_up") or FollowUpForm(),
        "cluster_form": forms.get("cluster") or ClusterForm(),
        "cluster_members": list(obj.cluster_members.all()) if obj.pk else [],
        "close_problems": ev_svc.close_problems(obj) if obj.is_open else [],
        "reason_form": ReasonForm(),
    }
    response = render(request, "vigilance/event_detail.html", ctx)
    response.status_code = status
    return response


@login_required
@require_GET
def event_detail(request: HttpRequest, pk: int) -> HttpResponse:
    qs = AdverseEvent.objects.select_related(
        "product", "lot", "unit", "feedback", "owner", "cluster_lead"
    )
    obj = get_object_for_user(request.user, qs, pk=pk)
    return event_page(request, obj)


def _evaluation_for(request: HttpRequest) -> Any:
    raw = request.GET.get("evaluation", "")
    if not raw:
        return None
    from medvigil.complaints.models import Evaluation, Feedback

    try:
        pk = int(raw)
    except ValueError:
        return None
    if not 0 < pk < 2**62:
        return None
    ev = get_object_for_user(request.user, Evaluation, pk=pk)
    get_object_for_user(request.user, Feedback, pk=ev.feedback_id)
    return ev


@permission_required(ev_svc.ADD_PERM)
@require_http_methods(["GET", "POST"])
def event_create(request: HttpRequest) -> HttpResponse:
    evaluation = _evaluation_for(request)
    initial: dict[str, Any] = {"aware_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M")}
    notice = ""
    if evaluation is not None:
        prefill = ev_svc.prefill_from_evaluation(evaluation)
        initial.update({k: v for k, v in prefill.items() if k in EventForm.base_fields})
        if prefill.get("aware_at"):
            initial["aware_at"] = timezone.localtime(prefill["aware_at"]).strftime("%Y-%m-%dT%H:%M")
        notice = _(
            "From complaint %(n)s: the company became aware when the complaint was received. "
            "The complaint's device is taken over."
        ) % {"n": evaluation.feedback.number}
    form = EventForm(request.POST or None, initial=initial, user=request.user)

    def create(*, by: Any, **values: Any) -> AdverseEvent:
        if evaluation is not None:
            values["evaluation"] = evaluation
        return ev_svc.create_event(by=by, **values)

    return create_record(
        request,
        form,
        create,
        lambda o: _("Adverse event %(n)s raised.") % {"n": o.number},
        _("New adverse event"),
        cancel=reverse("vigilance:event_list"),
        values=lambda f: f.changed_values(),
        context={"notice": notice},
    )


@permission_required(ev_svc.CHANGE_PERM)
@require_http_methods(["GET", "POST"])
def event_edit(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_for_user(request.user, AdverseEvent, "change", pk=pk)
    return edit_record(
        request,
        obj,
        EventForm(request.POST or None, instance=obj, user=request.user),
        ev_svc.update_event,
        lambda o: _("Adverse event %(n)s saved.") % {"n": o.number},
        _("Edit adverse event %(n)s") % {"n": obj.number},
    )


def _post(request: HttpRequest, obj: AdverseEvent, action: Any, done: str) -> HttpResponse:
    try:
        action()
    except (ValidationError, ConflictError) as exc:
        msgs = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
        messages.error(request, " ".join(str(m) for m in msgs))
    else:
        messages.success(request, done)
    return redirect(obj.get_absolute_url())


@permission_required(ev_svc.CHANGE_PERM)
@require_POST
def event_close(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_for_user(request.user, AdverseEvent, "change", pk=pk)
    return _post(
        request,
        obj,
        lambda: ev_svc.close_event(obj, by=request.user, version=request.POST.get("version")),
        _("Event closed."),
    )


@permission_required(ev_svc.CHANGE_PERM)
@require_POST
def event_void(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_for_user(request.user, AdverseEvent, "change", pk=pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Give a reason."))
        return redirect(obj.get_absolute_url())
    return _post(
        request,
        obj,
        lambda: ev_svc.void_event(obj, by=request.user, reason=form.cleaned_data["reason"]),
        _("Event voided."),
    )


@permission_required(ev_svc.CHANGE_PERM)
@require_POST
def event_cluster(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_for_user(request.user, AdverseEvent, "change", pk=pk)
    form = ClusterForm(request.POST)
    if not form.is_valid():
        return event_page(request, obj, {"cluster": form}, status=400)
    lead = (
        scope_for_user(request.user, AdverseEvent)
        .filter(number=form.cleaned_data["lead"].strip())
        .first()
    )
    if lead is None:
        form.add_error("lead", _("No event with this number."))
        return event_page(request, obj, {"cluster": form}, status=400)
    return _post(
        request,
        obj,
        lambda: ev_svc.link_cluster(obj, by=request.user, lead=lead),
        _("Linked to the cluster of %(n)s.") % {"n": lead.number},
    )


@permission_required(rep_svc.ADD_PERM)
@require_POST
def event_follow_up(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_for_user(request.user, AdverseEvent, pk=pk)
    form = FollowUpForm(request.POST)
    if form.is_valid():
        try:
            report = rep_svc.open_follow_up(
                obj,
                by=request.user,
                market=form.cleaned_data["market"],
                kind=form.cleaned_data["kind"],
                new_information=form.cleaned_data["new_information"],
                received_at=form.cleaned_data.get("received_at"),
            )
        except ValidationError as exc:
            from medvigil.core.records.views import apply_errors

            apply_errors(form, exc)
        else:
            messages.success(request, _("Report %(n)s opened.") % {"n": report.number})
            return redirect(report)
    return event_page(request, obj, {"follow_up": form}, status=400)


# --- decisions (VIG-2) -----------------------------------------------------------------------


def _decision(request: HttpRequest, pk: int) -> ReportabilityDecision:
    d = get_object_for_user(request.user, ReportabilityDecision, pk=pk)
    get_object_for_user(request.user, AdverseEvent, pk=d.event_id)
    return d


@permission_required(dec_svc.DECIDE_PERM)
@require_POST
def decision_confirm(request: HttpRequest, pk: int) -> HttpResponse:
    d = _decision(request, pk)
    return signed_action(
        request,
        d,
        meaning=Signature.Meaning.APPROVED,
        perform=lambda password, comment: dec_svc.confirm_decision(
            d, by=request.user, password=password, comment=comment, request=request
        ),
        dialog=lambda form: _decision_dialogs(request, d, {("confirm", d.pk): form})["confirm"],
        page=lambda dialog: event_page(request, d.event, {("confirm", d.pk): dialog["form"]}),
        success=lambda done: (
            _("Reportable in %(m)s: confirmed and signed.") % {"m": done.get_market_display()}
        ),
        next_url=lambda done: done.event.get_absolute_url(),
    )


@permission_required(dec_svc.DECIDE_PERM)
@require_POST
def decision_not_reportable(request: HttpRequest, pk: int) -> HttpResponse:
    d = _decision(request, pk)
    return signed_action(
        request,
        d,
        meaning=Signature.Meaning.APPROVED,
        perform=lambda password, comment: dec_svc.decide_not_reportable(
            d, by=request.user, password=password, basis=comment, request=request
        ),
        dialog=lambda form: _decision_dialogs(request, d, {("not", d.pk): form})["not_reportable"],
        page=lambda dialog: event_page(request, d.event, {("not", d.pk): dialog["form"]}),
        success=lambda done: (
            _("Not reportable in %(m)s: decided and signed.") % {"m": done.get_market_display()}
        ),
        next_url=lambda done: done.event.get_absolute_url(),
        comment_required=True,
    )


@permission_required(dec_svc.DECIDE_PERM)
@require_POST
def decision_revise(request: HttpRequest, pk: int) -> HttpResponse:
    d = _decision(request, pk)
    form = ReasonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Say what new information leads to the revision."))
        return redirect(d.event.get_absolute_url())
    return _post(
        request,
        d.event,
        lambda: dec_svc.revise_decision(d, by=request.user, reason=form.cleaned_data["reason"]),
        _("Decision revised: decide again."),
    )


# --- reports (VIG-4) ---------------------------------------------------------------------------


def _report(request: HttpRequest, pk: int, action: str = "view") -> VigilanceReport:
    r = get_object_for_user(request.user, VigilanceReport, action, pk=pk)
    get_object_for_user(request.user, AdverseEvent, pk=r.event_id)
    return r


def _frozen_report_dialog(
    request: HttpRequest,
    r: VigilanceReport | TrendReport,
    url_name: str,
    dialog_id: str,
    title: str,
    form: Any = None,
) -> dict:
    """The e-signature dialog that marks a report (incident or trend) submitted."""
    return signature_dialog_context(
        form_action=reverse(url_name, args=[r.pk]),
        meaning=Signature.Meaning.APPROVED,
        csrf_token=get_token(request),
        dialog_id=dialog_id,
        title=title,
        button=_("Mark submitted (e-signature)"),
        form=form,
        submit_label=_("Sign: submitted"),
        version=r.version,
        text=_(
            "The report's content is frozen as it is now, with the regulator's reference "
            "%(ref)s and the submission time."
        )
        % {"ref": r.regulator_reference or "—"},
    )


def _edit_report(
    request: HttpRequest, r: Any, form: Any, update: Callable[..., Any], title: str
) -> HttpResponse:
    """The edit page of a draft report (incident or trend)."""
    return edit_record(
        request, r, form, update, lambda o: _("Report %(n)s saved.") % {"n": o.number}, title
    )


def _submit_report(
    request: HttpRequest,
    r: Any,
    submit: Callable[..., Any],
    dialog: Callable[[HttpRequest, Any, Any], dict],
    page: Callable[[HttpRequest, Any, Any], HttpResponse],
) -> HttpResponse:
    """Mark a report (incident or trend) submitted with the e-signature: its content frozen."""
    return signed_action(
        request,
        r,
        meaning=Signature.Meaning.APPROVED,
        perform=lambda password, comment: submit(
            r, by=request.user, password=password, comment=comment, request=request
        ),
        dialog=lambda form: dialog(request, r, form),
        page=lambda d: page(request, r, d),
        success=lambda done: _("Report %(n)s submitted, frozen and signed.") % {"n": done.number},
    )


def submit_dialog(request: HttpRequest, r: VigilanceReport, form: Any = None) -> dict:
    return _frozen_report_dialog(
        request,
        r,
        "vigilance:report_submit",
        "report-submit",
        _("Mark the report submitted"),
        form,
    )


def report_page(
    request: HttpRequest, r: VigilanceReport, dialog: Any = None, status: int = 200
) -> HttpResponse:
    user = request.user
    content = r.content if r.content is not None else rep_svc.snapshot(r)
    content = rep_svc.masked_snapshot(content, user)
    may_submit = user.has_perm(rep_svc.SUBMIT_PERM) and r.status == r.Status.DRAFT
    ctx = {
        "obj": r,
        "content": content_sections(content),
        "rule_title": rule_title(r.deadline_rule) if r.deadline_rule else "",
        "may_change": user.has_perm(rep_svc.CHANGE_PERM) and r.status == r.Status.DRAFT,
        "submit": (dialog or submit_dialog(request, r)) if may_submit else None,
        "now": timezone.now(),
    }
    response = render(request, "vigilance/report_detail.html", ctx)
    response.status_code = status
    return response


@login_required
@require_GET
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return report_page(request, _report(request, pk))


@permission_required(rep_svc.CHANGE_PERM)
@require_http_methods(["GET", "POST"])
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    r = _report(request, pk, "change")
    return _edit_report(
        request,
        r,
        ReportForm(request.POST or None, instance=r),
        rep_svc.update_report,
        _("Edit report %(n)s") % {"n": r.number},
    )


@permission_required(rep_svc.SUBMIT_PERM)
@require_POST
def report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _submit_report(
        request, _report(request, pk), rep_svc.submit_report, submit_dialog, report_page
    )


# --- the countdown board (VIG-7) -----------------------------------------------------------


def _period(request: HttpRequest) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    default = (today.replace(month=1, day=1), today)
    try:
        start = dt.date.fromisoformat(request.GET.get("from", "") or default[0].isoformat())
        end = dt.date.fromisoformat(request.GET.get("to", "") or default[1].isoformat())
    except ValueError:
        return default
    if end < start or (end - start).days > 3660:
        return default
    return start, end


@permission_required("vigilance.view_adverseevent")
@require_GET
def board(request: HttpRequest) -> HttpResponse:
    return board_page(request)


# The board shows the most urgent clocks first, BOARD_PAGE a page (VIG-7).
BOARD_PAGE = 50


def _stamp(moment: dt.datetime | None) -> str:
    """What ``{{ moment|date:"Y-m-d H:i T" }}`` prints (in the current time zone)."""
    if moment is None:
        return ""
    local = timezone.localtime(moment)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}"


def board_rows_html(rows: list[board_svc.Row], now: dt.datetime) -> SafeString:
    """The board's rows (``<tr>`` each), built in Python (issue #10: 50 rows through the
    template language were half of the page's time): the clock's badge, the event, the market,
    what is due by its rule's name (the rule's code its tooltip), the due moment, the share of
    the clock used, the owner."""
    decide = esc(_("Decide reportability"))
    parts = []
    for r in rows:
        state = r.state(now)
        tint = {"breached": " table-danger", "urgent": " table-warning"}.get(state, "")
        e = r.event
        what = f"{decide} · {esc(r.title)}" if r.kind == "decision" else esc(r.title)
        owner = e.owner.printed_name if e.owner is not None else ""
        parts.append(
            f'\n  <tr class="board-row state-{esc(state)}{tint}">\n'
            f"    <td>{clock(state, r.remaining(now))}</td>\n"
            f"    <td>{link(e.get_absolute_url(), e.number)} {esc(e.title)}</td>\n"
            f"    <td>{esc(r.market)}</td>\n"
            f'    <td><a href="{esc(r.url)}" class="board-due" title="{esc(r.rule)}" '
            f'data-rule="{esc(r.rule)}">{what}</a></td>\n'
            f"    <td>{_stamp(r.due_at)}</td><td>{percent(r.elapsed(now))}</td>"
            f"<td>{esc(owner) or '—'}</td></tr>\n  "
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped (esc, link)


def periodic_rows_html(request: HttpRequest, now: dt.datetime, may_change: bool) -> SafeString:
    """The periodic reports due (``<tr>`` each), built in Python like the board's rows: the
    remaining time, the product, the market (and EU class), what is due (the rule's code its
    tooltip), the end of the period, the due moment and, for who may change them, the
    "Reported" form."""
    token = esc(get_token(request)) if may_change else ""
    reported = esc(_("Reported"))
    parts = []
    for d in per_svc.due_list():
        ob = d.obligation
        badge = ""
        if d.due_at is not None:
            left = d.due_at - now
            css = (
                "text-bg-danger"
                if left.total_seconds() < 0
                else "text-bg-warning"
                if left.days < 14
                else "text-bg-success"
            )
            badge = f'<span class="badge {css}">{esc(countdown(left))}</span>'
        market = esc(ob.market) + (f" ({esc(ob.eu_class)})" if ob.eu_class else "")
        form = (
            f'<form method="post" action="{pk_url("vigilance:periodic_reported", ob.pk)}">'
            f'<input type="hidden" name="csrfmiddlewaretoken" value="{token}">'
            f'<input type="hidden" name="period_end" value="{d.period_end:%Y-%m-%d}">'
            f'<button class="btn btn-sm btn-outline-success" type="submit">{reported}</button>'
            "</form>"
            if may_change
            else ""
        )
        parts.append(
            f'<tr id="periodic-{ob.pk}"><td>{badge}</td>\n'
            f"    <td>{esc(ob.product)}</td><td>{market}</td>"
            f'<td><span class="periodic-due" title="{esc(d.rule)}" data-rule="{esc(d.rule)}">'
            f"{esc(d.title)}</span></td>"
            f"<td>{d.period_end:%Y-%m-%d}</td><td>{_stamp(d.due_at)}</td>\n"
            f"    <td>{form}</td></tr>\n  "
        )
    return mark_safe("".join(parts))  # noqa: S308 - every value escaped (esc)


def board_page(request: HttpRequest, periodic_form: Any = None, status: int = 200) -> HttpResponse:
    now = timezone.now()
    market = request.GET.get("market", "")
    if market not in Market.values:
        market = ""
    total = board_svc.board_count(request.user, market=market)
    pages = max(1, -(-total // BOARD_PAGE))
    try:
        page = min(max(1, int(request.GET.get("page", "1"))), pages)
    except ValueError:
        page = 1
    first = (page - 1) * BOARD_PAGE
    rows = board_svc.board_rows(
        request.user, now=now, market=market, limit=BOARD_PAGE, offset=first
    )
    start, end = _period(request)
    return render(
        request,
        "vigilance/board.html",
        {
            "rows": board_rows_html(rows, now),
            "markets": Market.choices,
            "market": market,
            "total": total,
            "page": page,
            "pages": pages,
            "shown_from": first + 1 if rows else 0,
            "shown_to": first + len(rows),
            "rates": board_svc.on_time_rates(start, end, user=request.user, now=now),
            "start": start,
            "end": end,
            "now": now,
            "points_text": ", ".join(f"{int(p * 100)} %" for p in board_svc.alert_points()),
            "periodic": periodic_rows_html(
                request, now, request.user.has_perm(per_svc.CHANGE_PERM)
            ),
            "may_add_periodic": request.user.has_perm(per_svc.ADD_PERM),
            "periodic_form": periodic_form or PeriodicForm(user=request.user),
        },
        status=status,
    )


@permission_required(per_svc.ADD_PERM)
@require_POST
def periodic_create(request: HttpRequest) -> HttpResponse:
    form = PeriodicForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            per_svc.create_obligation(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            from medvigil.core.records.views import apply_errors

            apply_errors(form, exc)
        else:
            messages.success(request, _("Periodic report added to the board."))
            return redirect(reverse("vigilance:board"))
    return board_page(request, form, status=400)


@permission_required(per_svc.CHANGE_PERM)
@require_POST
def periodic_reported(request: HttpRequest, pk: int) -> HttpResponse:
    ob = get_object_for_user(request.user, PeriodicObligation, "change", pk=pk)
    try:
        end = dt.date.fromisoformat(request.POST.get("period_end", ""))
        per_svc.record_period_reported(ob, by=request.user, period_end=end)
    except ValueError:
        messages.error(request, _("Give the end of the period as a date."))
    except ValidationError as exc:
        messages.error(request, " ".join(str(m) for m in exc.messages))
    else:
        messages.success(request, _("Periodic report recorded."))
    return redirect(reverse("vigilance:board"))


# --- trend reporting (MDR Art. 88) ------------------------------------------------------------


def _trend_count(request: HttpRequest) -> int:
    try:
        return max(1, min(int(request.GET.get("periods", "6")), trend_svc.MAX_PERIODS))
    except ValueError:
        return 6


def trends_page(request: HttpRequest, form: Any = None, status: int = 200) -> HttpResponse:
    user = request.user
    rows = trend_svc.trend_rows(user=user, count=_trend_count(request))
    return render(
        request,
        "vigilance/trends.html",
        {
            "rows": rows,
            "periods": _trend_count(request),
            "baselines": list(
                TrendBaseline.objects.filter(
                    product__in=scope_for_user(user, Product)
                ).select_related("product")
            ),
            "reports": list(
                TrendReport.objects.filter(product__in=scope_for_user(user, Product))
                .select_related("product", "signal")
                .order_by("-id")[:50]
            ),
            "may_set": user.has_perm(trend_svc.BASELINE_PERM),
            "may_report": user.has_perm(trend_svc.REPORT_PERM),
            "form": form or BaselineForm(user=user),
        },
        status=status,
    )


@permission_required(trend_svc.VIEW_PERM)
@require_GET
def trends(request: HttpRequest) -> HttpResponse:
    return trends_page(request)


@permission_required(trend_svc.BASELINE_PERM)
@require_POST
def trend_baseline(request: HttpRequest) -> HttpResponse:
    form = BaselineForm(request.POST, user=request.user)
    if form.is_valid():
        try:
            trend_svc.set_baseline(by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            from medvigil.core.records.views import apply_errors

            apply_errors(form, exc)
        else:
            messages.success(request, _("Trend baseline saved."))
            return redirect(reverse("vigilance:trends"))
    return trends_page(request, form, status=400)


@permission_required(trend_svc.REPORT_PERM)
@require_POST
def trend_report_open(request: HttpRequest, pk: int) -> HttpResponse:
    signal = get_object_for_user(
        request.user,
        TrendSignal.objects.filter(product__in=scope_for_user(request.user, Product)),
        pk=pk,
    )
    try:
        report = trend_svc.open_trend_report(signal, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(str(m) for m in exc.messages))
        return redirect(reverse("vigilance:trends"))
    messages.success(request, _("Trend report %(n)s opened.") % {"n": report.number})
    return redirect(report)


def _trend_report(request: HttpRequest, pk: int, action: str = "view") -> TrendReport:
    return get_object_for_user(
        request.user, TrendReport.objects.select_related("product", "signal"), action, pk=pk
    )


def trend_submit_dialog(request: HttpRequest, r: TrendReport, form: Any = None) -> dict:
    return _frozen_report_dialog(
        request,
        r,
        "vigilance:trend_report_submit",
        "trend-report-submit",
        _("Mark the trend report submitted"),
        form,
    )


def trend_report_page(
    request: HttpRequest, r: TrendReport, dialog: Any = None, status: int = 200
) -> HttpResponse:
    user = request.user
    may_submit = user.has_perm(trend_svc.SUBMIT_PERM) and r.status == r.Status.DRAFT
    ctx = {
        "obj": r,
        "content": r.content if r.content is not None else trend_svc.trend_snapshot(r),
        "may_change": user.has_perm(trend_svc.CHANGE_REPORT_PERM) and r.status == r.Status.DRAFT,
        "submit": (dialog or trend_submit_dialog(request, r)) if may_submit else None,
        "signatures": signature_lines(r) if r.is_submitted else [],
    }
    response = render(request, "vigilance/trend_report_detail.html", ctx)
    response.status_code = status
    return response


@permission_required(trend_svc.VIEW_PERM)
@require_GET
def trend_report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return trend_report_page(request, _trend_report(request, pk))


@permission_required(trend_svc.CHANGE_REPORT_PERM)
@require_http_methods(["GET", "POST"])
def trend_report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    r = _trend_report(request, pk, "change")
    return _edit_report(
        request,
        r,
        TrendReportForm(request.POST or None, instance=r),
        trend_svc.update_trend_report,
        _("Edit trend report %(n)s") % {"n": r.number},
    )


@permission_required(trend_svc.SUBMIT_PERM)
@require_POST
def trend_report_submit(request: HttpRequest, pk: int) -> HttpResponse:
    return _submit_report(
        request,
        _trend_report(request, pk),
        trend_svc.submit_trend_report,
        trend_submit_dialog,
        trend_report_page,
    )


__all__ = ["PermissionDenied"]


# --- forms and structured exports (VIG-6) ------------------------------------------------------


@login_required
@require_GET
def report_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    from medvigil.core.documents import pdf_response

    from .services.forms import form_pdf

    r = _report(request, pk)
    return pdf_response(
        form_pdf(r, request.user), f"{r.number}-{r.market}", inline=request.GET.get("inline") == "1"
    )


@login_required
@require_GET
def report_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    from medvigil.core.documents import safe_filename

    from .services.forms import as_json, as_xml

    r = _report(request, pk)
    if fmt == "xml":
        response = HttpResponse(as_xml(r, request.user), content_type="application/xml")
    else:
        response = HttpResponse(as_json(r, request.user), content_type="application/json")
    response["Content-Disposition"] = (
        f'attachment; filename="{safe_filename(f"{r.number}-{r.market}", fmt)}"'
    )
    return response
