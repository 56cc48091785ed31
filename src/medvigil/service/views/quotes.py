"""SVC-5/6 pages: the price list, a quote for a request, the general manager's signed approval
of a discount above the limit, and the customer's answer."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from medvigil.core.audit.models import ConflictError
from medvigil.core.models import Signature
from medvigil.core.permissions import get_object_for_user
from medvigil.core.records.lists import Column, Filter, RecordList
from medvigil.core.records.views import signed_action
from medvigil.core.templatetags.records import signature_dialog_context

from ..models import PriceKind, PriceListItem, Quote, ServiceRequest
from ..services import quotes


class PriceList(RecordList):
    model = PriceListItem
    template = "service/price_list.html"
    table_template = "service/_price_table.html"
    search_fields = ("code", "name")
    filters = (
        Filter("kind", gettext_lazy("Type"), [("", gettext_lazy("All")), *PriceKind.choices]),
    )
    columns = {
        "code": Column(gettext_lazy("Code"), lambda i: i.code, sort="code"),
        "name": Column(gettext_lazy("Name"), lambda i: i.name, sort="name"),
        "kind": Column(gettext_lazy("Type"), lambda i: i.get_kind_display(), sort="kind"),
        "unit": Column(gettext_lazy("Unit"), lambda i: i.unit),
        "price": Column(gettext_lazy("Unit price"), lambda i: str(i.unit_price), sort="unit_price"),
    }
    default_sort = "kind"
    export_name = "service-price-list"

    def extra_context(self, page: Any) -> dict[str, Any]:
        return {"may_add": self.user.has_perm(quotes.PRICE_PERM)}


price_list = PriceList.as_view()


@login_required
@require_http_methods(["GET", "POST"])
def price_new(request: Any) -> Any:
    from django import forms

    from medvigil.core.records.forms import BootstrapMixin
    from medvigil.core.records.views import create_record

    if not request.user.has_perm(quotes.PRICE_PERM):
        raise PermissionDenied

    class Form(BootstrapMixin, forms.ModelForm):
        class Meta:
            model = PriceListItem
            fields = ["code", "name", "kind", "unit", "unit_price"]

        def _post_clean(self) -> None:
            pass

    form = Form(request.POST or None)
    form._style()
    return create_record(
        request,
        form,
        quotes.add_price_item,
        lambda i: _("%(code)s added to the price list.") % {"code": i.code},
        _("Add to the price list"),
        cancel=reverse("service:price_list"),
        values=lambda f: dict(f.cleaned_data),
        next_url=lambda i: reverse("service:price_list"),
    )


class QuoteList(RecordList):
    model = Quote
    template = "service/quote_list.html"
    table_template = "service/_quote_table.html"
    search_fields = ("number", "request__number", "request__title")
    filters = (
        Filter(
            "status", gettext_lazy("Status"), [("", gettext_lazy("All")), *Quote.Status.choices]
        ),
    )
    columns = {
        "number": Column(gettext_lazy("Number"), lambda q: q.number, sort="number"),
        "request": Column(gettext_lazy("Request"), lambda q: q.request.number),
        "list_total": Column(gettext_lazy("List price total"), lambda q: str(q.list_total)),
        "discount": Column(gettext_lazy("Discount"), lambda q: str(q.discount_percent)),
        "total": Column(gettext_lazy("Total"), lambda q: str(q.total), sort="total"),
        "status": Column(gettext_lazy("Status"), lambda q: q.get_status_display(), sort="status"),
    }
    default_sort = "-number"
    export_name = "service-quotes"

    def queryset(self) -> Any:
        return super().queryset().select_related("request")


quote_list = QuoteList.as_view()


def _parse_lines(text: str) -> list[dict[str, str]]:
    """One line per price-list item: code; quantity (1 when left out)."""
    out = []
    for raw in (text or "").splitlines():
        if raw.strip():
            bits = [b.strip() for b in raw.replace("；", ";").split(";")]
            out.append({"item": bits[0], "quantity": (bits[1] if len(bits) > 1 else "") or "1"})
    return out


@login_required
@require_http_methods(["GET", "POST"])
def quote_new(request: Any, pk: int) -> Any:
    if not request.user.has_perm(quotes.ADD_PERM):
        raise PermissionDenied
    sr = get_object_for_user(request.user, ServiceRequest, pk=pk)
    errors: list[str] = []
    values = {"lines": "", "discount_percent": "0", "discount_reason": ""}
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            q = quotes.create_quote(
                sr,
                by=request.user,
                lines=_parse_lines(values["lines"]),
                discount_percent=values["discount_percent"] or "0",
                discount_reason=values["discount_reason"],
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("Quote %(number)s made.") % {"number": q.number})
            return redirect(q)
    return render(
        request,
        "service/quote_form.html",
        {
            "sr": sr,
            "values": values,
            "errors": errors,
            "items": PriceListItem.objects.filter(active=True),
            "limit": quotes.approval_limit(),
        },
        status=400 if errors else 200,
    )


def _approve_dialog(request: Any, q: Quote, form: Any = None) -> dict[str, Any]:
    from django.middleware.csrf import get_token

    return signature_dialog_context(
        form_action=reverse("service:quote_approve", args=[q.pk]),
        meaning=Signature.Meaning.APPROVED,
        csrf_token=get_token(request),
        dialog_id="approve-discount",
        title=_("Approve the discount"),
        button=_("Approve the discount (signature)"),
        form=form,
        version=q.version,
        text=_("You approve a discount of %(d)s %% on %(n)s.")
        % {"d": q.discount_percent, "n": q.number},
    )


def _page(request: Any, q: Quote, dialog: dict[str, Any] | None = None) -> HttpResponse:
    may_approve = request.user.has_perm(quotes.APPROVE_PERM) and quotes.needs_approval(q)
    ctx = {
        "obj": q,
        "sr": q.request,
        "approve_dialog": dialog or (_approve_dialog(request, q) if may_approve else None),
        "may_answer": request.user.has_perm(quotes.CHANGE_PERM)
        and q.status == Quote.Status.APPROVED,
        "limit": quotes.approval_limit(),
    }
    return render(request, "service/quote_detail.html", ctx)


@login_required
@require_GET
def quote_detail(request: Any, pk: int) -> Any:
    q = get_object_for_user(request.user, Quote.objects.select_related("request"), pk=pk)
    return _page(request, q)


@login_required
@require_POST
def quote_approve(request: HttpRequest, pk: int) -> HttpResponse:
    if not request.user.has_perm(quotes.APPROVE_PERM):
        raise PermissionDenied
    q = get_object_for_user(request.user, Quote.objects.select_related("request"), pk=pk)

    def perform(password: str, comment: str) -> Any:
        return quotes.approve_discount(
            q, by=request.user, password=password, comment=comment, request=request
        )

    return signed_action(
        request,
        q,
        meaning=Signature.Meaning.APPROVED,
        perform=perform,
        dialog=lambda form: _approve_dialog(request, q, form),
        page=lambda dialog: _page(request, q, dialog),
        success=lambda done: _("Discount approved and signed."),
    )


@login_required
@require_POST
def quote_answer(request: Any, pk: int) -> Any:
    if not request.user.has_perm(quotes.CHANGE_PERM):
        raise PermissionDenied
    q = get_object_for_user(request.user, Quote, pk=pk)
    try:
        quotes.record_customer_answer(
            q,
            by=request.user,
            version=request.POST.get("version"),
            accepted={"yes": True, "no": False}.get(request.POST.get("accepted", "")),
            customer_name=request.POST.get("customer_name", ""),
        )
    except ConflictError as exc:
        messages.error(request, str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("The customer's answer is recorded."))
    return redirect(q)
