"""The pages of an issued document (core.records.issued): the record page with its issue
dialog, the signed issue and the PDF, declared once per document type::

    EIGHT_D = IssuedDocumentPages(
        model=EightDReport,
        template="complaints/eightd_detail.html",   # extends records/issued_document.html
        element_id="eightd",                         # ids eightd-status, -pdf, -edit, -issue
        issue_url="complaints:eightd_issue",
        pdf_url="complaints:eightd_pdf",
        edit_url="complaints:eightd_edit",
        dialog_title=gettext_lazy("Issue and sign the 8D report"), ...,
        render=svc.eight_d_pdf,                      # (doc, *, user) -> PDF bytes
        issue=svc.issue_eight_d,                     # (doc, *, by, password, request, comment)
        success=lambda r: _("8D report issued and signed."),
    )

    # the app's views keep their names and URLs
    eightd_detail, eightd_issue, eightd_pdf = EIGHT_D.views()

Access: the document through ``get_object_for_user`` (role and object rule) and then its
parent (``model.document_parent``) through the same helper, so whoever may not see the
complaint or the recall does not see its documents either.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from medvigil.core.documents import pdf_response
from medvigil.core.permissions import can, get_object_for_user

from .views import signed_action

View = Callable[..., HttpResponse]


def _may_change(user: Any, doc: Any) -> bool:
    return bool(can(user, type(doc), "change"))


@dataclass(frozen=True)
class IssuedDocumentPages:
    """The page, issue and PDF views of one issued-document model (see the module doc)."""

    model: type
    template: str
    element_id: str
    issue_url: str
    pdf_url: str
    render: Callable[..., bytes]
    issue: Callable[..., Any]
    success: Callable[[Any], str]
    dialog_title: Any
    dialog_button: Any
    dialog_text: Any
    edit_url: str | None = None
    #: Who may sign the issue (default: the model's change permission).
    signer: Callable[[Any, Any], bool] = _may_change
    #: The access action the issue view fetches the document with ("view" when `signer`
    #: holds a permission other than the document's change permission).
    issue_action: str = "change"
    #: Extra template context from the document (the sections of an 8D report, …).
    context: Callable[[Any], dict[str, Any]] = field(default=lambda doc: {})
    #: The file name of the PDF (default: the document's number).
    filename: Callable[[Any], str] = field(default=lambda doc: str(doc.number))
    #: Where a successful issue or draft goes (default: the document's page).
    next_url: Callable[[Any], str] | None = None
    #: The draft service as the "new" view calls it: ``draft(parent, by=user, data=POST)``
    #: (the posted language or kind is the service's to check), and its success message.
    draft: Callable[..., Any] | None = None
    drafted: Callable[[Any], str] | None = None

    # --- access ---------------------------------------------------------------------------

    def get(self, request: HttpRequest, pk: int, action: str = "view") -> Any:
        """The document for this user (404/403 otherwise), and its parent's access rule."""
        parent = self.model.document_parent
        related = [parent, "issued_by", "document"] if parent else ["issued_by", "document"]
        doc = get_object_for_user(
            request.user, self.model.objects.select_related(*related), action, pk=pk
        )
        if parent:
            parent_model = self.model._meta.get_field(parent).related_model
            get_object_for_user(request.user, parent_model, pk=getattr(doc, f"{parent}_id"))
        return doc

    # --- the page and its dialog ----------------------------------------------------------

    def dialog(self, request: HttpRequest, doc: Any, form: Any = None) -> dict[str, Any]:
        """The signature dialog of the issue (meaning "approved")."""
        from medvigil.core.models import Signature
        from medvigil.core.templatetags.records import signature_dialog_context

        return signature_dialog_context(
            form_action=reverse(self.issue_url, args=[doc.pk]),
            meaning=Signature.Meaning.APPROVED,
            csrf_token=get_token(request),
            dialog_id=f"{self.element_id}-issue",
            title=self.dialog_title,
            button=self.dialog_button,
            form=form,
            submit_label=_("Sign and issue"),
            version=doc.version,
            text=self.dialog_text,
        )

    def page(self, request: HttpRequest, doc: Any, dialog: Any = None) -> HttpResponse:
        """The document's page: the issue dialog for a draft when the user may sign, the
        edit link when the user may change it."""
        user = request.user
        may_sign = doc.can_edit() and self.signer(user, doc)
        parent = getattr(doc, self.model.document_parent) if self.model.document_parent else None
        return render(
            request,
            self.template,
            {
                "doc": doc,
                "obj": doc,
                "parent": parent,
                "element_id": self.element_id,
                "pdf_url": reverse(self.pdf_url, args=[doc.pk]),
                "edit_url": reverse(self.edit_url, args=[doc.pk]) if self.edit_url else "",
                "may_change": doc.can_edit() and _may_change(user, doc),
                "dialog": dialog or (self.dialog(request, doc) if may_sign else None),
                **self.context(doc),
            },
        )

    # --- the views ------------------------------------------------------------------------

    def detail(self, request: HttpRequest, pk: int) -> HttpResponse:
        return self.page(request, self.get(request, pk))

    def issue_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The signed issue (a POST from the dialog), through ``signed_action``."""
        doc = self.get(request, pk, self.issue_action)
        if not self.signer(request.user, doc):
            raise PermissionDenied

        def perform(password: str, comment: str) -> Any:
            return self.issue(
                doc, by=request.user, password=password, request=request, comment=comment
            )

        from medvigil.core.models import Signature

        return signed_action(
            request,
            doc,
            meaning=Signature.Meaning.APPROVED,
            perform=perform,
            dialog=lambda form: self.dialog(request, doc, form),
            page=lambda dialog: self.page(request, doc, dialog=dialog),
            success=self.success,
            next_url=self.next_url,
        )

    def new(self, request: HttpRequest, pk: int) -> HttpResponse:
        """Draft a new document of the parent `pk` (a POST from the parent's page): the
        parent through the access helper, the model's add permission, then ``draft``; a
        refusal is shown as a message on the parent's page."""
        if self.draft is None:
            raise PermissionDenied
        parent_model = self.model._meta.get_field(self.model.document_parent).related_model
        parent = get_object_for_user(request.user, parent_model, pk=pk)
        if not can(request.user, self.model, "add"):
            raise PermissionDenied
        try:
            doc = self.draft(parent, by=request.user, data=request.POST)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect(parent)
        if self.drafted is not None:
            messages.success(request, self.drafted(doc))
        return redirect(self.next_url(doc) if self.next_url else doc)

    def new_view(self) -> View:
        """:meth:`new` as a view function (POST, signed-in users only)."""
        return login_required(require_POST(self.new))

    def views(self) -> tuple[View, View, View]:
        """The page (GET), the issue (POST) and the PDF (GET) as view functions for the app's
        ``urls.py``, signed-in users only::

            eightd_detail, eightd_issue, eightd_pdf = EIGHT_D.views()
        """
        return (
            login_required(require_GET(self.detail)),
            login_required(require_POST(self.issue_view)),
            login_required(require_GET(self.pdf)),
        )

    def pdf(self, request: HttpRequest, pk: int) -> HttpResponse:
        """The issued document as stored; a draft's preview rendered now."""
        doc = self.get(request, pk)
        if doc.document_id and doc.document is not None:
            with doc.document.file.open("rb") as f:
                data = f.read()
        else:
            data = self.render(doc, user=request.user)
        return pdf_response(data, self.filename(doc), inline=request.GET.get("inline") == "1")
