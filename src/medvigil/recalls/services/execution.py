"""RCL-4 (and RCL-6: advisory notices run through the same functions): notices to the
consignees (e-mail from the system, or recorded as sent by phone, fax, letter or visit),
acknowledgements, each unit's outcome with its evidence, the effectiveness aggregated in SQL,
and the periodic chase of consignees who have not acknowledged."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from medvigil.core.audit import audit_context
from medvigil.core.permissions import require
from medvigil.core.types import Actor
from medvigil.trace.models import located_share

from .. import rules
from ..models import (
    ACCOUNTED,
    DocumentKind,
    NoticeChannel,
    Recall,
    RecallConsignee,
    RecallDocument,
    RecallUnit,
    UnitOutcome,
)
from .records import lock, mark_complete, meet_rule

CONSIGNEE_PERM = "recalls.change_recallconsignee"
UNIT_PERM = "recalls.change_recallunit"
MAX_SERIALS = 10_000  # serials per outcome post


def _require_open(recall: Recall) -> None:
    if recall.status != Recall.Status.OPEN:
        raise ValidationError(_("The recall is not in progress (decide it first)."))


def issued_notice(recall: Recall) -> RecallDocument | None:
    return (
        RecallDocument.objects.filter(
            recall=recall, kind=DocumentKind.NOTICE, status=RecallDocument.Status.ISSUED
        )
        .select_related("document")
        .order_by("-issued_at")
        .first()
    )


def check_may_notify(recall: Recall) -> RecallDocument:
    """The rules before any notice goes out: the recall decided, its field safety notice
    approved and issued (RCL-5), and in the EU the FSCA reported first unless urgent."""
    _require_open(recall)
    if recall.eu_fsca and not recall.eu_fsca_urgent and recall.eu_reported_at is None:
        raise ValidationError(
            _("Report the FSCA to the EU competent authority before notifying (%(c)s).")
            % {"c": rules.EU_FSCA_FIRST}
        )
    notice = issued_notice(recall)
    if notice is None:
        raise ValidationError(_("Issue the approved field safety notice first."))
    return notice


def _send_email(row: RecallConsignee, recall: Recall, notice: RecallDocument) -> None:
    address = row.email.strip()
    if not address:
        raise ValidationError(
            {"channel": _("%(n)s has no e-mail address; choose another channel.") % {"n": row.name}}
        )
    with translation.override("zh-hans"):
        subject = f"{recall.number} {recall.title} — " + _("field safety notice")
    body = "\n\n".join(
        part for part in (notice.body_zh, notice.body_en, _("Please acknowledge receipt.")) if part
    )
    message = EmailMessage(
        subject=subject[:200],
        body=body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
    )
    if notice.document is not None:
        with notice.document.file.open("rb") as f:
            message.attach(f"{notice.number}.pdf", f.read(), "application/pdf")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # an SMTP error must not be a 500; nothing is saved
        raise ValidationError(_("The e-mail could not be sent: %(e)s") % {"e": exc}) from exc


def record_notice(
    row: RecallConsignee, *, by: Actor, channel: str, note: str = "", at: Any = None
) -> RecallConsignee:
    """The notice to one consignee: e-mailed by the system (with the issued notice PDF), or
    recorded as sent by phone, fax, letter or a visit. The notification clock is met when the
    last consignee is told."""
    require(by, CONSIGNEE_PERM)
    if channel not in NoticeChannel.values:
        raise ValidationError({"channel": _("Choose from the list.")})
    with transaction.atomic(), audit_context(actor=by, reason=_("Recall notice sent")):
        row = RecallConsignee.objects.select_for_update().get(pk=row.pk)
        recall = lock(row.recall_id)
        notice = check_may_notify(recall)
        if channel == NoticeChannel.EMAIL:
            _send_email(row, recall, notice)
        row.notice_channel = channel
        row.notice_sent_at = at or timezone.now()
        row.notice_note = (note or "").strip()[:300]
        row.save()
        _meet_notify_clock(recall)
    return row


def send_email_notices(recall: Recall, *, by: Actor) -> dict[str, int]:
    """E-mail the notice to every consignee not yet told that has an address."""
    require(by, CONSIGNEE_PERM)
    sent = skipped = 0
    check_may_notify(recall)
    for row in RecallConsignee.objects.filter(recall=recall, notice_sent_at__isnull=True):
        if not row.email.strip():
            skipped += 1
            continue
        record_notice(row, by=by, channel=NoticeChannel.EMAIL)
        sent += 1
    return {"sent": sent, "skipped": skipped}


def _meet_notify_clock(recall: Recall) -> None:
    if recall.level is None:
        return
    if not RecallConsignee.objects.filter(recall=recall, notice_sent_at__isnull=True).exists():
        meet_rule(recall, rules.NOTIFY[recall.level].code, reference=_("all consignees notified"))


def record_acknowledgement(
    row: RecallConsignee, *, by: Actor, note: str = "", at: Any = None
) -> RecallConsignee:
    """The consignee confirmed receipt of the notice."""
    require(by, CONSIGNEE_PERM)
    with transaction.atomic(), audit_context(actor=by, reason=_("Recall notice acknowledged")):
        row = RecallConsignee.objects.select_for_update().get(pk=row.pk)
        recall = lock(row.recall_id)
        _require_open(recall)
        if row.notice_sent_at is None:
            raise ValidationError(_("Record the notice before its acknowledgement."))
        if row.acknowledged_at is not None:
            raise ValidationError(_("Already acknowledged."))
        row.acknowledged_at = at or timezone.now()
        row.acknowledgement = (note or "").strip()[:300]
        row.save()
    return row


def record_outcome(
    recall: Recall,
    *,
    by: Actor,
    outcome: str,
    serials: Iterable[str] = (),
    unit_ids: Iterable[int] = (),
    evidence: str = "",
    at: Any = None,
) -> int:
    """Units located, corrected, returned or destroyed, with the evidence (required for the
    outcomes that account for a unit), by serial or by RecallUnit id; one audited bulk update
    (one entry per unit). Returns the number of units recorded."""
    require(by, UNIT_PERM)
    if outcome not in UnitOutcome.values or outcome == UnitOutcome.OPEN:
        raise ValidationError({"outcome": _("Choose from the list.")})
    evidence = (evidence or "").strip()
    if outcome in ACCOUNTED and not evidence:
        raise ValidationError({"evidence": _("Give the evidence (document, work order, note).")})
    serial_list = sorted({s.strip() for s in serials if s and s.strip()})
    ids = sorted({int(i) for i in unit_ids})
    if not serial_list and not ids:
        raise ValidationError({"serials": _("Give at least one serial number.")})
    if len(serial_list) + len(ids) > MAX_SERIALS:
        raise ValidationError({"serials": _("At most %(n)s units at a time.") % {"n": MAX_SERIALS}})
    with transaction.atomic(), audit_context(actor=by, reason=evidence or None):
        recall = lock(recall.pk)
        _require_open(recall)
        rows = RecallUnit.objects.filter(recall=recall).filter(
            Q(serial__in=serial_list) | Q(pk__in=ids)
        )
        found = set(rows.values_list("serial", flat=True))
        missing = [s for s in serial_list if s not in found]
        if missing:
            raise ValidationError(
                {
                    "serials": _("Not in this recall: %(s)s")
                    % {"s": ", ".join(missing[:20]) + ("…" if len(missing) > 20 else "")}
                }
            )
        found_ids = set(rows.values_list("pk", flat=True))
        if set(ids) - found_ids:
            raise ValidationError({"serials": _("Not in this recall.")})
        when = at or timezone.now()
        count = rows.update(outcome=outcome, evidence=evidence, outcome_at=when)
        if (
            recall.completed_at is None
            and recall.unit_count > 0
            and not RecallUnit.objects.filter(recall=recall).exclude(outcome__in=ACCOUNTED).exists()
        ):
            # RCL-3: the last unit accounted for completes the recall: the summary clock runs
            mark_complete(recall, when)
    return count


def effectiveness(recall: Recall) -> dict[str, Any]:
    """RCL-4, in one SQL aggregate: units by outcome, the effectiveness (units corrected,
    returned or destroyed, as a share of the affected units, half up to 0.01 %, never 100 %
    while one is missing), the located share, and the consignees told and acknowledging."""
    agg = RecallUnit.objects.filter(recall=recall).aggregate(
        total=Count("id"),
        **{o: Count("id", filter=Q(outcome=o)) for o in UnitOutcome.values},
    )
    total = agg.pop("total")
    accounted = sum(agg[o] for o in ACCOUNTED)
    located = accounted + agg[UnitOutcome.LOCATED]
    cons = RecallConsignee.objects.filter(recall=recall).aggregate(
        total=Count("id"),
        notified=Count("id", filter=Q(notice_sent_at__isnull=False)),
        acknowledged=Count("id", filter=Q(acknowledged_at__isnull=False)),
    )
    return {
        "units": total,
        "by_outcome": agg,
        "accounted": accounted,
        "located": located,
        "percent": located_share(accounted, total),
        "located_percent": located_share(located, total),
        "consignees": cons["total"],
        "notified": cons["notified"],
        "acknowledged": cons["acknowledged"],
        "notified_percent": located_share(cons["notified"], cons["total"]),
        "acknowledged_percent": located_share(cons["acknowledged"], cons["total"]),
    }


def chase_unacknowledged(now: dt.datetime | None = None) -> int:
    """The periodic job (recalls.tasks): consignees told more than RECALL_CHASE_DAYS ago that
    have not acknowledged, not reminded within that time — the recall's owner is notified
    (in-app and e-mail) and each row counts the reminder (audited bulk update). Returns how
    many consignees were chased."""
    from medvigil.core.i18n import gettext_msg as _  # stored: shown in the reader's language
    from medvigil.core.notifications.services import notify

    now = now or timezone.now()
    days = int(getattr(settings, "RECALL_CHASE_DAYS", 2))
    cutoff = now - dt.timedelta(days=days)
    due = (
        RecallConsignee.objects.filter(
            recall__status=Recall.Status.OPEN,
            notice_sent_at__lte=cutoff,
            acknowledged_at__isnull=True,
        )
        .filter(Q(last_chased_at__isnull=True) | Q(last_chased_at__lte=cutoff))
        .select_related("recall", "recall__owner")
        .order_by("recall_id", "id")
    )
    rows = list(due[:5000])
    if not rows:
        return 0
    by_recall: dict[int, list[RecallConsignee]] = {}
    for row in rows:
        by_recall.setdefault(row.recall_id, []).append(row)
    with transaction.atomic(), audit_context(reason=_("Unacknowledged recall notice chased")):
        for chunk in by_recall.values():
            recall = chunk[0].recall
            names = ", ".join(r.name for r in chunk[:10]) + ("…" if len(chunk) > 10 else "")
            notify(
                recall.owner,
                _("%(n)s: %(c)s consignees have not acknowledged the notice")
                % {"n": recall.number, "c": len(chunk)},
                names,
                url=recall.get_absolute_url() + "#consignees",
                level="warning",
            )
        for row in rows:
            row.chase_count += 1
            row.last_chased_at = now
        RecallConsignee.objects.bulk_update(rows, ["chase_count", "last_chased_at"])
    return len(rows)
