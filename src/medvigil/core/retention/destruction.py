"""Controlled destruction of records past their retention (PLAT-5, TRC-9).

Destruction
-----------
:func:`request_destruction` (refused before the date, for permanent records, for record
types that are never destroyed (``retention_destroyable = False``), and when a request is
already open), then
:func:`approve_destruction` by a second person holding ``core.approve_destructionrequest``
with an electronic signature ("approved"): the record (and any dependent rows that would be
deleted with it, each with its own audit entry) is deleted under ``allow_destroy``; its audit
trail, the request and the signature remain. :func:`reject_destruction` closes a request with
a signed ("reviewed") note.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.db.models.deletion import Collector, ProtectedError, RestrictedError
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from ..audit import audit_context
from ..audit.recorder import record_change, record_event
from ..audit.values import snapshot
from ..models import AuditedModel, DestructionRequest, Signature
from ..permissions import require
from ..signatures.services import apply_signature, check_signer
from ..types import UserLike
from .periods import RetentionDecision, explain_retention

if TYPE_CHECKING:
    from medvigil.accounts.models import User

APPROVE_PERM = "core.approve_destructionrequest"
REQUEST_PERM = "core.add_destructionrequest"
VIEW_PERM = "core.view_destructionrequest"

Status = DestructionRequest.Status


def four_eyes() -> bool:
    """Whether the approver must be another person than the requester (default: yes)."""
    return bool(getattr(settings, "DESTRUCTION_FOUR_EYES", True))


# --- record types and targets -------------------------------------------------------------


def is_destroyable_type(model: type[models.Model]) -> bool:
    meta = model._meta
    return (
        issubclass(model, AuditedModel)
        and not meta.abstract
        and not meta.proxy
        and model.retention_destroyable
    )


def destroyable_models(user: UserLike | None = None) -> list[type[models.Model]]:
    """Regulated record types that can go through destruction (that `user` may view)."""
    from django.apps import apps

    out = []
    for model in apps.get_models():
        if not is_destroyable_type(model):
            continue
        meta = model._meta
        if user is not None and not user.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
            continue
        out.append(model)
    return sorted(out, key=lambda m: (m._meta.app_label, m._meta.model_name))


def target_of(req: DestructionRequest, *, for_update: bool = False) -> models.Model | None:
    """The record a request is about, or None once destroyed (or if it never existed)."""
    model = req.content_type.model_class()
    if model is None:
        return None
    qs = model._base_manager.all()
    if for_update:
        qs = qs.select_for_update()
    try:
        return qs.filter(pk=req.object_id).first()
    except (ValueError, TypeError, ValidationError):
        return None


def _record_label(record: models.Model) -> str:
    try:
        return str(record)[:200]
    except Exception:
        return f"{type(record).__name__} {record.pk}"


# --- guards -------------------------------------------------------------------------------


def _check_expired(record: models.Model) -> RetentionDecision:
    decision = explain_retention(record)
    if decision.permanent:
        raise ValidationError(
            _("This record is kept permanently (%(why)s); it cannot be destroyed.")
            % {"why": decision.explanation},
            code="permanent",
        )
    if not decision.expired():
        assert decision.until is not None and decision.destroyable_from is not None
        raise ValidationError(
            _(
                "This record must be kept until %(until)s (%(why)s); destruction is possible "
                "from %(from)s."
            )
            % {
                "until": date_format(decision.until, "Y-m-d"),
                "from": date_format(decision.destroyable_from, "Y-m-d"),
                "why": decision.explanation,
            },
            code="retained",
        )
    return decision


def _check_open(req: DestructionRequest) -> None:
    if req.status != Status.REQUESTED:
        raise ValidationError(
            _("This destruction request was already decided (%(status)s).")
            % {"status": req.get_status_display()},
            code="decided",
        )


def _approvers() -> list[Any]:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Permission

    perm = Permission.objects.filter(
        content_type__app_label="core", codename="approve_destructionrequest"
    ).first()
    if perm is None:
        return []
    users = (
        get_user_model()
        .objects.filter(
            Q(is_superuser=True) | Q(roles__permissions=perm) | Q(user_permissions=perm),
            is_active=True,
        )
        .distinct()
    )
    return [u for u in users if u.has_perm(APPROVE_PERM)]


def _notify(users: Any, title: Any, url: str, body: str = "") -> None:
    try:
        from ..notifications.services import notify
    except ImportError:  # notifications not installed
        return
    notify(users, title, body=body, url=url)


# --- services -----------------------------------------------------------------------------


def request_destruction(record: models.Model, *, by: UserLike, reason: str) -> DestructionRequest:
    """Ask for `record` to be destroyed. Refused (ValidationError, nothing changed) before
    its retention date, for a permanent record, for a record type that is never destroyed,
    without a reason, or when a request for it is already open."""
    require(by, REQUEST_PERM)
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": _("Give the reason for the destruction.")})
    if record.pk is None or not is_destroyable_type(type(record)):
        raise ValidationError(_("Records of this type cannot be destroyed."), code="type")
    decision = _check_expired(record)
    ct = ContentType.objects.get_for_model(record, for_concrete_model=True)
    with transaction.atomic():
        open_req = (
            DestructionRequest.objects.select_for_update()
            .filter(content_type=ct, object_id=str(record.pk), status=Status.REQUESTED)
            .first()
        )
        if open_req is not None:
            raise ValidationError(
                _("Destruction of this record was already requested (%(number)s).")
                % {"number": open_req.number},
                code="duplicate",
            )
        with audit_context(actor=by, reason=reason):
            req = DestructionRequest.objects.create(
                number=DestructionRequest.next_number(),
                content_type=ct,
                object_id=str(record.pk),
                object_repr=_record_label(record),
                retain_until=decision.until,
                reason=reason,
                requested_by=by,
            )
        url = reverse("destruction_detail", args=[req.pk])
        approvers = [u for u in _approvers() if not (four_eyes() and u.pk == by.pk)]
        _notify(
            approvers,
            format_lazy(
                "{}: {} — {}", gettext_lazy("Destruction to approve"), req.number, req.object_repr
            ),
            url,
            reason,
        )
    return req


def _guard_decision(req: DestructionRequest, by: UserLike, *, approving: bool) -> None:
    require(by, APPROVE_PERM)
    _check_open(req)
    if approving and four_eyes() and req.requested_by_id == by.pk:
        raise ValidationError(
            _(
                "You requested this destruction; another person with approval rights must "
                "approve it."
            ),
            code="four_eyes",
        )


def _destroy(target: models.Model, req: DestructionRequest, by: UserLike) -> int:
    """Delete `target` and whatever would be deleted with it, each with a delete entry in
    its audit trail. Returns the number of dependent rows. Refused if anything protects it."""
    using = target._state.db or "default"
    reason = _("Destroyed under %(number)s: %(reason)s") % {
        "number": req.number,
        "reason": req.reason,
    }
    with audit_context(actor=by, allow_destroy=True, reason=reason):
        collector = Collector(using=using, origin=target)
        try:
            collector.collect([target])
        except (ProtectedError, RestrictedError) as exc:
            blockers = sorted({_record_label(o) for o in list(exc.args[1])[:5]})
            raise ValidationError(
                _(
                    "The record is still referenced by other records (%(which)s); it cannot be "
                    "destroyed while they exist."
                )
                % {"which": ", ".join(blockers)},
                code="protected",
            )
        dependents: list[models.Model] = []
        for instances in collector.data.values():
            dependents.extend(
                o for o in instances if not (type(o) is type(target) and o.pk == target.pk)
            )
        for qs in collector.fast_deletes:  # querysets (or lists) deleted without loading
            dependents.extend(qs)
        for obj in dependents:
            if isinstance(obj, AuditedModel):
                record_change(obj, snapshot(obj), None, created=False, deleted=True, pk=obj.pk)
        target.delete()
    return len(dependents)


def approve_destruction(
    req: DestructionRequest,
    *,
    by: UserLike,
    password: str,
    request: HttpRequest | None,
    note: str = "",
) -> DestructionRequest:
    """Approve with an electronic signature ("approved") and destroy the record.

    Needs core.approve_destructionrequest; with DESTRUCTION_FOUR_EYES (default) the approver
    is not the requester. The retention date is checked again at approval. Must be called
    outside transaction.atomic (the password check commits a refused attempt)."""
    _guard_decision(req, by, approving=True)
    target = target_of(req)
    if target is None:
        raise ValidationError(_("The record no longer exists."), code="missing")
    _check_expired(target)
    check = check_signer(
        req, user=by, password=password, request=request, meaning=Signature.Meaning.APPROVED
    )
    with transaction.atomic():
        req = DestructionRequest.objects.select_for_update().get(pk=req.pk)
        _guard_decision(req, by, approving=True)
        target = target_of(req, for_update=True)
        if target is None:
            raise ValidationError(_("The record no longer exists."), code="missing")
        _check_expired(target)
        note = (note or "").strip()
        with audit_context(actor=by, reason=note or req.reason):
            req.status = Status.APPROVED
            req.decided_by = cast("User", by)  # checked by check_signer
            req.decided_at = timezone.now()
            req.decision_note = note
            req.save()
            apply_signature(req, check, reason=note)
            dependents = _destroy(target, req, by)
            record_event(
                req,
                gettext_noop("record destroyed"),
                {"record": req.object_repr, "dependent_rows": dependents},
            )
        _notify(
            [req.requested_by],
            format_lazy("{}: {}", gettext_lazy("Destruction approved"), req.number),
            reverse("destruction_detail", args=[req.pk]),
            note,
        )
    return req


def reject_destruction(
    req: DestructionRequest,
    *,
    by: UserLike,
    password: str,
    request: HttpRequest | None,
    note: str,
) -> DestructionRequest:
    """Reject with a note and an electronic signature ("reviewed"); the record stays."""
    _guard_decision(req, by, approving=False)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"note": _("Say why the destruction is rejected.")})
    check = check_signer(
        req, user=by, password=password, request=request, meaning=Signature.Meaning.REVIEWED
    )
    with transaction.atomic():
        req = DestructionRequest.objects.select_for_update().get(pk=req.pk)
        _guard_decision(req, by, approving=False)
        with audit_context(actor=by, reason=note):
            req.status = Status.REJECTED
            req.decided_by = cast("User", by)  # checked by check_signer
            req.decided_at = timezone.now()
            req.decision_note = note
            req.save()
            apply_signature(req, check, reason=note)
        _notify(
            [req.requested_by],
            format_lazy("{}: {}", gettext_lazy("Destruction rejected"), req.number),
            reverse("destruction_detail", args=[req.pk]),
            note,
        )
    return req
