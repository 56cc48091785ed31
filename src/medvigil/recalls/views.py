"""Recall pages (RCL-1 … RCL-6) on the record view kit: the list (RecordList), create and edit
(create_record, edit_record), the record page with its panels, the signed decision and
document issue (signed_action), and the execution page (consignees and units, paginated,
counted in SQL). Every rule is in services/."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medvigil.core.audit.models import ConflictError
from medvigil.core.models import Signature
from medvigil.core.permissions import can, get_object_for_user, permission_required
from medvigil.core.records.forms import ReasonForm
from medvigil.core.records.issued_views import IssuedDocumentPages
from medvigil.core.records.lists import Column, Filter, RecordList
from medvigil.core.records.views import create_record, edit_record, signed_action
from medvigil.core.templatetags.records import signature_dialog_context

from . import services
from .forms import AckForm, CloseForm, DocumentForm, MeetForm, NoticeForm, OutcomeForm, RecallForm
from .models import (
    CONTACT_PERM,
    DocumentKind,
    Kind,
    Level,
    Recall,
    RecallClock,
    RecallConsignee,
    RecallDocument,
    RecallUnit,
    UnitOutcome,
)
from .services.records import source_model, source_prefill, source_record

app_name = "recalls"
PER_PAGE = 50


# --- list ----------------------------------------------------------------------------------


class RecallList(RecordList):
    model = Recall
    template = "recalls/recall_list.html"
    table_template = "recalls/_recall_table.html"
    search_fields = ("number", "title", "title_en", "scope_lots", "source_reference")
    search_placeholder = gettext_lazy("Number, title, lot…")
    filters = (
        Filter("kind", gettext_lazy("Kind"), [("", gettext_lazy("All")), *Kind.choices]),
        Filter(
            "status", gettext_lazy("Status"), [("", gettext_lazy("All")), *Recall.Status.choices]
        ),
        Filter(
            "level",
            gettext_lazy("Level"),
            [("", gettext_lazy("All")), *[(str(v), lbl) for v, lbl in Level.choices]],
        ),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda o: o.number, sort="number"),
        "kind": Column(gettext_lazy("Kind"), lambda o: o.get_kind_display(), sort="kind"),
        "title": Column(gettext_lazy("Title"), lambda o: o.title, sort="title"),
        "level": Column(gettext_lazy("Level"), lambda o: o.get_level_display() or "", sort="level"),
        "status": Column(gettext_lazy("Status"), lambda o: o.get_status_display(), sort="status"),
        "units": Column(gettext_lazy("Units"), lambda o: o.unit_count, sort="unit_count"),
        "decided": Column(
            gettext_lazy("Decided"),
            lambda o: o.decided_at.isoformat() if o.decided_at else "",
            sort="decided_at",
        ),
    }
    default_sort = "-number"
    export_name = "recalls"

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"can_add": can(self.user, Recall, "add")}


recall_list = RecallList.as_view()


# --- create and edit -------------------------------------------------------------------------


@permission_required("recalls.add_recall")
@require_http_methods(["GET", "POST"])
def recall_create(request: HttpRequest) -> HttpResponse:
    """A new recall or advisory notice, directly or (``?source=capa.capa:<id>``, a complaint
    or an adverse event likewise) from the record that started it: prefilled from it and
    linked to it on save (services.create_recall_from, RCL-1)."""
    kind = Kind.ADVISORY if request.GET.get("kind") == Kind.ADVISORY else Kind.RECALL
    source = _source_param(request)
    initial = source_prefill(source) if source is not None else {}
    form = RecallForm(request.POST or None, initial=initial, user=request.user, kind=kind)
    title = _("New advisory notice") if kind == Kind.ADVISORY else _("New recall")
    create: Any = services.create_recall
    notice = ""
    cancel = reverse("recalls:recall_list")
    if source is not None:
        create = partial(services.create_recall_from, source)
        notice = _("Started from %(s)s: saving links it to this record.") % {
            "s": initial["source_reference"]
        }
        cancel = source.get_absolute_url()  # type: ignore[attr-defined]
    return create_record(
        request,
        form,
        create,
        lambda r: _("%(n)s created.") % {"n": r.number},
        title,
        cancel=cancel,
        values=lambda f: {**f.changed_values(), "kind": kind},
        context={"notice": notice},
    )


def _source_param(request: HttpRequest) -> Any:
    """The record named by ``?source=<app.model>:<id>``, when it is one a recall may start
    from and the user may see it (404 otherwise)."""
    raw = request.GET.get("source")
    if raw is None:
        return None
    label, _sep, pk = raw.partition(":")
    model = source_model(label.strip().lower())
    if model is None or not pk.isdigit():
        raise Http404
    return get_object_for_user(request.user, model, "view", pk=int(pk))


@permission_required("recalls.change_recall")
@require_http_methods(["GET", "POST"])
def recall_edit(request: HttpRequest, pk: int) -> HttpResponse:
    obj = get_object_for_user(request.user, Recall, "change", pk=pk)
    if obj.status not in (Recall.Status.DRAFT, Recall.Status.OPEN):
        messages.error(request, _("A closed or voided recall cannot be changed."))
        return redirect(obj)
    form = RecallForm(request.POST or None, instance=obj, user=request.user, kind=obj.kind)
    return edit_record(
        request,
        obj,
        form,
        services.update_recall,
        lambda r: _("%(n)s saved.") % {"n": r.number},
        _("Edit %(n)s") % {"n": obj.number},
    )


# --- the record page -------------------------------------------------------------------------


def _recall(request: HttpRequest, pk: int, action: str = "view") -> Recall:
    return get_object_for_user(
        request.user,
        Recall.objects.select_related("owner", "decided_by", "product", "source_type"),
        action,
        pk=pk,
    )


def _decide_dialog(request: HttpRequest, recall: Recall, form: Any = None) -> dict[str, Any]:
    return signature_dialog_context(
        form_action=reverse("recalls:recall_decide", args=[recall.pk]),
        meaning=Signature.Meaning.APPROVED,
        csrf_token=get_token(request),
        dialog_id="recall-decide",
        title=_("Decide and sign"),
        button=_("Decide (sign)"),
        form=form,
        submit_label=_("Sign the decision"),
        version=recall.version,
        text=_("The scope is frozen and the clocks start now."),
    )


def _page(request: HttpRequest, recall: Recall, dialog: Any = None) -> HttpResponse:
    user = request.user
    may_change = can(user, Recall, "change") and recall.status in (
        Recall.Status.DRAFT,
        Recall.Status.OPEN,
    )
    may_decide = user.has_perm(recall.approve_perm) and recall.can_decide()
    clocks = list(RecallClock.objects.filter(recall=recall).order_by("due_at", "id"))
    documents = list(
        RecallDocument.objects.filter(recall=recall).select_related("issued_by").order_by("id")
    )
    source = source_record(recall)
    source_url = ""
    if source is not None and hasattr(source, "get_absolute_url"):
        try:
            get_object_for_user(user, type(source), pk=source.pk)
            source_url = source.get_absolute_url()
        except Exception:  # not visible to this user: the reference only
            source_url = ""
    return render(
        request,
        "recalls/recall_detail.html",
        {
            "recall": recall,
            "obj": recall,
            "may_change": may_change,
            "may_add_document": can(user, RecallDocument, "add") and may_change,
            "dialog": dialog or (_decide_dialog(request, recall) if may_decide else None),
            "clocks": clocks,
            "documents": documents,
            "document_kinds": DocumentKind.choices,
            "eff": services.effectiveness(recall) if recall.scope_resolved_at else None,
            "meet_form": MeetForm(),
            "close_form": CloseForm(),
            "void_form": ReasonForm(),
            "source_url": source_url,
        },
    )


@login_required
@require_GET
def recall_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return _page(request, _recall(request, pk))


def _post_service(request: HttpRequest, recall: Recall, call: Any, done: str) -> HttpResponse:
    try:
        call()
    except (ValidationError, ConflictError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, done)
    return redirect(recall)


@login_required
@require_POST
def recall_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    recall = _recall(request, pk, "change")
    return _post_service(
        request,
        recall,
        lambda: services.resolve_scope(recall, by=request.user),
        _("Scope resolved from traceability."),
    )


@login_required
@require_POST
def recall_decide(request: HttpRequest, pk: int) -> HttpResponse:
    recall = _recall(request, pk)
    if not request.user.has_perm(recall.approve_perm):
        raise PermissionDenied

    def perform(password: str, comment: str) -> Recall:
        return services.decide_recall(
            recall, by=request.user, password=password, request=request, comment=comment
        )

    return signed_action(
        request,
        recall,
        meaning=Signature.Meaning.APPROVED,
        perform=perform,
        dialog=lambda form: _decide_dialog(request, recall, form),
        page=lambda dialog: _page(request, recall, dialog=dialog),
        success=lambda r: _("%(n)s decided; the clocks run.") % {"n": r.number},
    )


@login_required
@require_POST
def clock_meet(request: HttpRequest, pk: int) -> HttpResponse:
    clock = get_object_for_user(request.user, RecallClock, "change", pk=pk)
    recall = _recall(request, clock.recall_id, "change")
    form = MeetForm(request.POST)
    reference = form.cleaned_data["reference"] if form.is_valid() else ""
    return _post_service(
        request,
        recall,
        lambda: services.meet_clock(clock, by=request.user, reference=reference),
        _("Deadline met."),
    )


@login_required
@require_POST
def recall_eu_report(request: HttpRequest, pk: int) -> HttpResponse:
    recall = _recall(request, pk, "change")
    return _post_service(
        request,
        recall,
        lambda: services.record_eu_report(
            recall, by=request.user, version=request.POST.get("version")
        ),
        _("EU FSCA report recorded."),
    )


@login_required
@require_POST
def recall_complete(request: HttpRequest, pk: int) -> HttpResponse:
    """RCL-3: the execution declared complete; the summary evaluation clock starts."""
    recall = _recall(request, pk, "change")
    return _post_service(
        request,
        recall,
        lambda: services.complete_execution(
            recall, by=request.user, version=request.POST.get("version")
        ),
        _("Execution complete; the summary evaluation is due."),
    )


@login_required
@require_POST
def recall_close(request: HttpRequest, pk: int) -> HttpResponse:
    recall = _recall(request, pk, "change")
    form = CloseForm(request.POST)
    conclusion = form.cleaned_data["conclusion"] if form.is_valid() else ""
    return _post_service(
        request,
        recall,
        lambda: services.close_recall(
            recall, by=request.user, version=request.POST.get("version"), conclusion=conclusion
        ),
        _("Recall closed."),
    )


@login_required
@require_POST
def recall_void(request: HttpRequest, pk: int) -> HttpResponse:
    recall = _recall(request, pk, "change")
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _post_service(
        request,
        recall,
        lambda: services.void_recall(
            recall, by=request.user, version=request.POST.get("version"), reason=reason
        ),
        _("Recall voided."),
    )


# --- execution (RCL-4) -----------------------------------------------------------------------


def _consignees(request: HttpRequest, recall: Recall) -> QuerySet:
    qs = RecallConsignee.objects.filter(recall=recall)
    state = request.GET.get("cstate", "")
    if state == "unsent":
        qs = qs.filter(notice_sent_at__isnull=True)
    elif state == "unacked":
        qs = qs.filter(notice_sent_at__isnull=False, acknowledged_at__isnull=True)
    q = (request.GET.get("cq") or "").strip()[:100]
    if q:
        qs = qs.filter(name__icontains=q)
    return qs.order_by("sale_level", "name", "id")


def _units(request: HttpRequest, recall: Recall) -> QuerySet:
    qs = RecallUnit.objects.filter(recall=recall)
    outcome = request.GET.get("outcome", "")
    if outcome in UnitOutcome.values:
        qs = qs.filter(outcome=outcome)
    q = (request.GET.get("uq") or "").strip()[:100]
    if q:
        qs = qs.filter(Q(serial__icontains=q))
    # the page's customers and lots by id (prefetch): a JOIN lets the planner hash the whole
    # customer and lot tables, a cost that grows with the company, not the page (as trace)
    return qs.prefetch_related("consignee", "end_user", "lot").order_by("id")


def _page_of(qs: QuerySet, number: Any) -> Any:
    from django.core.paginator import Paginator

    return Paginator(qs, PER_PAGE).get_page(number)


def _params(request: HttpRequest, drop: str) -> str:
    params = request.GET.copy()
    params.pop(drop, None)
    return params.urlencode()


@login_required
@require_GET
def recall_execution(request: HttpRequest, pk: int) -> HttpResponse:
    recall = _recall(request, pk)
    user = request.user
    return render(
        request,
        "recalls/recall_execution.html",
        {
            "recall": recall,
            "eff": services.effectiveness(recall),
            "cpage": _page_of(_consignees(request, recall), request.GET.get("cpage")),
            "upage": _page_of(_units(request, recall), request.GET.get("upage")),
            "cparams": _params(request, "cpage"),
            "uparams": _params(request, "upage"),
            "cstate": request.GET.get("cstate", ""),
            "outcome": request.GET.get("outcome", ""),
            "outcomes": UnitOutcome.choices,
            "show_contacts": user.has_perm(CONTACT_PERM),
            "may_notify": can(user, RecallConsignee, "change")
            and recall.status == Recall.Status.OPEN,
            "may_record": can(user, RecallUnit, "change") and recall.status == Recall.Status.OPEN,
            "notice_form": NoticeForm(),
            "ack_form": AckForm(),
            "outcome_form": OutcomeForm(),
        },
    )


def _execution_url(recall: Recall) -> str:
    return reverse("recalls:recall_execution", args=[recall.pk])


def _consignee(request: HttpRequest, pk: int) -> tuple[RecallConsignee, Recall]:
    row = get_object_for_user(request.user, RecallConsignee, "change", pk=pk)
    return row, _recall(request, row.recall_id)


def _after(request: HttpRequest, recall: Recall, call: Any, done: str) -> HttpResponse:
    try:
        call()
    except (ValidationError, ConflictError) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, done)
    return redirect(_execution_url(recall))


@login_required
@require_POST
def consignee_notice(request: HttpRequest, pk: int) -> HttpResponse:
    row, recall = _consignee(request, pk)
    form = NoticeForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose how the notice was sent."))
        return redirect(_execution_url(recall))
    return _after(
        request,
        recall,
        lambda: services.record_notice(
            row,
            by=request.user,
            channel=form.cleaned_data["channel"],
            note=form.cleaned_data["note"],
        ),
        _("Notice recorded for %(n)s.") % {"n": row.name},
    )


@login_required
@require_POST
def consignee_ack(request: HttpRequest, pk: int) -> HttpResponse:
    row, recall = _consignee(request, pk)
    form = AckForm(request.POST)
    note = form.cleaned_data["note"] if form.is_valid() else ""
    return _after(
        request,
        recall,
        lambda: services.record_acknowledgement(row, by=request.user, note=note),
        _("Acknowledgement recorded for %(n)s.") % {"n": row.name},
    )


@login_required
@require_POST
def recall_email_all(request: HttpRequest, pk: int) -> HttpResponse:
    recall = _recall(request, pk)
    if not can(request.user, RecallConsignee, "change"):
        raise PermissionDenied
    result: dict[str, int] = {}

    def call() -> None:
        result.update(services.send_email_notices(recall, by=request.user))

    try:
        call()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(s)s notices e-mailed; %(k)s consignees have no address.")
            % {"s": result["sent"], "k": result["skipped"]},
        )
    return redirect(_execution_url(recall))


@login_required
@require_POST
def recall_outcome(request: HttpRequest, pk: int) -> HttpResponse:
    recall = _recall(request, pk)
    if not can(request.user, RecallUnit, "change"):
        raise PermissionDenied
    form = OutcomeForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(e for errs in form.errors.values() for e in errs))
        return redirect(_execution_url(recall))
    count: list[int] = []

    def call() -> None:
        count.append(
            services.record_outcome(
                recall,
                by=request.user,
                outcome=form.cleaned_data["outcome"],
                serials=form.cleaned_data["serials"].split(),
                evidence=form.cleaned_data["evidence"],
            )
        )

    try:
        call()
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("%(n)s units recorded.") % {"n": count[0]})
    return redirect(_execution_url(recall))


# --- documents (RCL-5) ----------------------------------------------------------------------


DOCUMENT_PAGES = IssuedDocumentPages(
    model=RecallDocument,
    template="recalls/recalldocument_detail.html",
    element_id="document",
    issue_url="recalls:document_issue",
    pdf_url="recalls:document_pdf",
    edit_url="recalls:document_edit",
    render=services.document_pdf,
    issue=services.issue_document,
    success=lambda d: _("%(n)s approved and issued.") % {"n": d.number},
    dialog_title=gettext_lazy("Approve and issue"),
    dialog_button=gettext_lazy("Approve and issue"),
    dialog_text=gettext_lazy("The document is rendered as a PDF, signed and frozen."),
    # the division head / general manager (the management representative for an advisory)
    signer=lambda user, doc: user.has_perm(doc.recall.approve_perm),
    issue_action="view",
    draft=lambda recall, by, data: services.draft_document(
        recall, by=by, kind=data.get("kind", "")
    ),
    drafted=lambda doc: _("%(n)s drafted from the record.") % {"n": doc.number},
)


@login_required
@require_http_methods(["GET", "POST"])
def document_edit(request: HttpRequest, pk: int) -> HttpResponse:
    doc = DOCUMENT_PAGES.get(request, pk, "change")
    if not doc.can_edit():
        messages.error(request, _("The document is issued and frozen."))
        return redirect(doc)
    return edit_record(
        request,
        doc,
        DocumentForm(request.POST or None, instance=doc),
        services.update_document,
        lambda d: _("%(n)s saved.") % {"n": d.number},
        _("Edit %(n)s") % {"n": doc.number},
    )


# the report page (GET), its signed issue (POST) and the PDF (GET): the kit's views
recalldocument_detail, document_issue, document_pdf = DOCUMENT_PAGES.views()
document_new = DOCUMENT_PAGES.new_view()  # draft from the recall page
