"""SVC-7/SVC-8 pages: loaners (issued, at the customer, returned, overdue) and the maintenance
visits and call-backs (planned, done, missed)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from medvigil.core.audit.models import ConflictError
from medvigil.core.permissions import get_object_for_user, scope_for_user
from medvigil.core.records.forms import BootstrapMixin
from medvigil.core.records.lists import Column, Filter, RecordList
from medvigil.core.records.views import create_record
from medvigil.trace.models import Customer, Unit

from ..models import Loan, MaintenanceVisit, ServiceRequest
from ..services import loans, maintenance


def _overdue(qs: QuerySet, value: str, user: Any) -> QuerySet:
    return qs.filter(status=Loan.Status.OUT, due_back_on__lt=timezone.localdate())


class LoanList(RecordList):
    model = Loan
    template = "service/loan_list.html"
    table_template = "service/_loan_table.html"
    search_fields = ("number", "unit__serial", "customer__name")
    filters = (
        Filter("status", gettext_lazy("Status"), [("", gettext_lazy("All")), *Loan.Status.choices]),
        Filter(
            "overdue",
            gettext_lazy("Overdue"),
            [("", gettext_lazy("All")), ("1", gettext_lazy("Overdue"))],
            apply=_overdue,
        ),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda o: o.number, sort="number"),
        "unit": Column(gettext_lazy("Loaner unit"), lambda o: str(o.unit)),
        "customer": Column(gettext_lazy("Customer"), lambda o: str(o.customer)),
        "issued": Column(
            gettext_lazy("Issued"), lambda o: o.issued_at.isoformat(), sort="issued_at"
        ),
        "due": Column(
            gettext_lazy("Due back"), lambda o: o.due_back_on.isoformat(), sort="due_back_on"
        ),
        "status": Column(gettext_lazy("Status"), lambda o: o.get_status_display(), sort="status"),
    }
    default_sort = "due_back_on"
    export_name = "loaners"

    def queryset(self) -> QuerySet:
        return super().queryset().select_related("unit__product", "customer", "request")

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"may_add": self.user.has_perm(loans.ISSUE_PERM), "today": timezone.localdate()}


loan_list = LoanList.as_view()


class LoanForm(BootstrapMixin, forms.Form):
    unit = forms.CharField(label=gettext_lazy("Loaner unit (serial or UDI)"), max_length=200)
    customer = forms.ModelChoiceField(
        label=gettext_lazy("Customer"), queryset=Customer.objects.none()
    )
    due_back_on = forms.DateField(
        label=gettext_lazy("Due back on"), widget=forms.DateInput(attrs={"type": "date"})
    )
    notes = forms.CharField(label=gettext_lazy("Notes"), max_length=2000, required=False)

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["customer"].queryset = scope_for_user(user, Customer)  # type: ignore[attr-defined]
        self._style()

    def clean_unit(self) -> Unit:
        from medvigil.trace.udi import UdiError, find_unit

        try:
            return find_unit(self.cleaned_data["unit"], self.user)
        except (UdiError, PermissionDenied) as exc:
            raise forms.ValidationError(str(exc)) from None


@login_required
@require_http_methods(["GET", "POST"])
def loan_new(request: Any) -> Any:
    """Issue a loaner; from a service request (?request=<id>) it is recorded there too."""
    if not request.user.has_perm(loans.ISSUE_PERM):
        raise PermissionDenied
    sr = None
    if (rid := request.GET.get("request", "")).isdigit() and len(rid) < 12:
        sr = get_object_for_user(request.user, ServiceRequest, pk=int(rid))
    initial = {"customer": sr.customer_id} if sr else {}
    form = LoanForm(request.POST or None, initial=initial, user=request.user)
    return create_record(
        request,
        form,
        lambda by, **v: loans.issue_loan(by=by, request=sr, **v),
        lambda loan: _("Loaner %(number)s issued.") % {"number": loan.number},
        _("Issue a loaner"),
        cancel=sr.get_absolute_url() if sr else reverse("service:loan_list"),
        values=lambda f: dict(f.cleaned_data),
        next_url=lambda loan: sr.get_absolute_url() if sr else reverse("service:loan_list"),
    )


def _post_action(request: Any, obj: Any, perform: Any, done: str, back: str) -> Any:
    try:
        perform()
    except ConflictError as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect(back)


@login_required
@require_POST
def loan_return(request: Any, pk: int) -> Any:
    if not request.user.has_perm(loans.RETURN_PERM):
        raise PermissionDenied
    loan = get_object_for_user(request.user, Loan, pk=pk)
    return _post_action(
        request,
        loan,
        lambda: loans.return_loan(loan, by=request.user, version=request.POST.get("version")),
        _("Loaner returned."),
        reverse("service:loan_list"),
    )


def _missed(qs: QuerySet, value: str, user: Any) -> QuerySet:
    return qs.filter(status=MaintenanceVisit.Status.PLANNED, due_on__lt=timezone.localdate())


class VisitList(RecordList):
    model = MaintenanceVisit
    template = "service/maintenance_list.html"
    table_template = "service/_maintenance_table.html"
    search_fields = ("unit__serial",)
    filters = (
        Filter(
            "kind",
            gettext_lazy("Type"),
            [("", gettext_lazy("All")), *MaintenanceVisit.Kind.choices],
        ),
        Filter(
            "status",
            gettext_lazy("Status"),
            [("", gettext_lazy("All")), *MaintenanceVisit.Status.choices],
        ),
        Filter(
            "missed",
            gettext_lazy("Missed"),
            [("", gettext_lazy("All")), ("1", gettext_lazy("Missed"))],
            apply=_missed,
        ),
    )
    columns = {
        "due": Column(gettext_lazy("Due on"), lambda o: o.due_on.isoformat(), sort="due_on"),
        "kind": Column(gettext_lazy("Type"), lambda o: o.get_kind_display(), sort="kind"),
        "unit": Column(gettext_lazy("Unit"), lambda o: str(o.unit)),
        "warranty": Column(
            gettext_lazy("Under warranty"), lambda o: "yes" if o.in_warranty else "no"
        ),
        "status": Column(gettext_lazy("Status"), lambda o: o.get_status_display(), sort="status"),
    }
    default_sort = "due_on"
    export_name = "maintenance-visits"

    def queryset(self) -> QuerySet:
        return super().queryset().select_related("unit__product", "assigned_to")

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {
            "today": timezone.localdate(),
            "may_change": self.user.has_perm("service.change_maintenancevisit"),
        }


maintenance_list = VisitList.as_view()


@login_required
@require_POST
def visit_done(request: Any, pk: int) -> Any:
    if not request.user.has_perm("service.change_maintenancevisit"):
        raise PermissionDenied
    visit = get_object_for_user(request.user, MaintenanceVisit, pk=pk)
    return _post_action(
        request,
        visit,
        lambda: maintenance.complete_visit(
            visit,
            by=request.user,
            version=request.POST.get("version"),
            notes=request.POST.get("notes", ""),
        ),
        _("Visit recorded as done."),
        reverse("service:maintenance_list"),
    )
