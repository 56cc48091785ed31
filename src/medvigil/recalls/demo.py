"""Demo data (the DomainApp demo hook): a level 2 recall half executed — scope resolved from
the demo trace data, decided and its plan and field safety notice issued with the general
manager's signature, half the consignees told and some acknowledging, half the units dealt
with — and an advisory notice issued by the management representative (RCL-1 … RCL-6).

`medvigil demo` runs the loaders inside one transaction, where a password check (its own
durable transaction) cannot run; the demo signs with a prepared check instead."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from .models import DocumentKind, Kind, Recall, RecallConsignee, RecallUnit, SourceKind


def _check(record: Any, user: Any) -> Any:
    from medvigil.core.models import Signature
    from medvigil.core.signatures.services import loader_check

    return loader_check(record, user=user, meaning=Signature.Meaning.APPROVED)


def load_demo() -> None:
    from medvigil.accounts.models import User
    from medvigil.core.audit import audit_context
    from medvigil.trace.models import Lot, Tracking

    if Recall.objects.exists():
        return
    users = {
        u.username: u
        for u in User.objects.filter(
            username__in=["quality", "gm", "mgmtrep", "service", "logistics"]
        )
    }
    if len(users) < 5:
        return
    lots = list(
        Lot.objects.filter(product__tracking=Tracking.SERIAL, product__code__startswith="DEMO")
        .select_related("product")
        .order_by("id")
    )
    if len(lots) < 3:
        return
    first = lots[0]
    same = [lot for lot in lots if lot.product_id == first.product_id]
    recall_lots = same[:2]
    other = next((lot for lot in lots if lot.product_id != first.product_id), lots[-1])
    with audit_context(source="command:demo"):
        _recall(users, recall_lots)
        _advisory(users, other)


def _recall(users: dict[str, Any], lots: list[Any]) -> None:
    from . import services
    from .services.documents import apply_issue
    from .services.records import apply_decision

    quality, gm = users["quality"], users["gm"]
    product = lots[0].product
    recall = services.create_recall(
        by=quality,
        kind=Kind.RECALL,
        title=f"{product.name} 报警模块可能失效",
        title_en=f"{product.name_en or product.name}: alarm module may fail",
        reason="部分批次的报警模块在低电量时可能不发出声音报警, 可能导致治疗中断未被及时发现。",
        reason_en="The alarm module of some lots may stay silent at low battery; an interrupted "
        "therapy may go unnoticed.",
        action="请立即检查设备并联系我司工程师更换报警模块; 在更换前请加强人工巡视。",
        action_en="Check the devices at once and call our engineer to replace the alarm module; "
        "until then, watch the patients more closely.",
        level=2,
        source_kind=SourceKind.COMPLAINT,
        product=product,
        scope_lots="\n".join(lot.lot_number for lot in lots),
        fda_class="",
    )
    _link_complaint(recall, quality)
    recall = services.resolve_scope(recall, by=quality)
    recall = apply_decision(recall, by=gm, check=_check(recall, gm), comment="二级召回")
    for kind in (DocumentKind.PLAN, DocumentKind.NOTICE):
        doc = services.draft_document(recall, by=quality, kind=kind)
        apply_issue(doc, by=gm, check=_check(doc, gm))
    recall.refresh_from_db()
    clock = recall.clocks.filter(deadline_rule="cn.recall_event_report").first()
    if clock is not None:
        services.meet_clock(clock, by=quality, reference="召回事件报告表 2026-001")
    rows = list(RecallConsignee.objects.filter(recall=recall).order_by("sale_level", "id"))
    told = rows[: max(1, len(rows) // 2)]
    for n, row in enumerate(told):
        services.record_notice(row, by=users["service"], channel="phone", note="电话通知")
        if n % 2 == 0:
            services.record_acknowledgement(row, by=users["service"], note="已回执")
    units = list(RecallUnit.objects.filter(recall=recall).order_by("id"))
    half = units[: len(units) // 2]
    corrected, returned = half[: len(half) // 2 + 1], half[len(half) // 2 + 1 :]
    if corrected:
        services.record_outcome(
            recall,
            by=users["logistics"],
            outcome="corrected",
            unit_ids=[u.pk for u in corrected],
            evidence="工单: 更换报警模块并测试合格",
        )
    if returned:
        services.record_outcome(
            recall,
            by=users["logistics"],
            outcome="returned",
            unit_ids=[u.pk for u in returned],
            evidence="退货入库单",
        )


def _link_complaint(recall: Recall, by: Any) -> None:
    from django.apps import apps

    from . import services

    if not apps.is_installed("medvigil.complaints"):
        return
    feedback = apps.get_model("complaints", "Feedback").objects.order_by("id").first()
    if feedback is not None:
        services.link_source(recall, by=by, record=feedback, kind=SourceKind.COMPLAINT)


def _advisory(users: dict[str, Any], lot: Any) -> None:
    from . import services
    from .services.documents import apply_issue
    from .services.records import apply_decision

    quality, rep = users["quality"], users["mgmtrep"]
    notice = services.create_recall(
        by=quality,
        kind=Kind.ADVISORY,
        title=f"{lot.product.name} 使用说明补充: 清洁方法",
        title_en=f"{lot.product.name_en or lot.product.name}: cleaning instructions supplement",
        reason="部分用户使用含酒精的清洁剂擦拭屏幕, 可能导致触摸屏失灵。",
        reason_en="Some users clean the screen with alcohol-based agents, which may make the "
        "touch screen fail.",
        action="请仅使用中性清洁剂清洁屏幕, 并将本通知转达所有使用人员。",
        action_en="Clean the screen with neutral agents only and pass this notice to all users.",
        source_kind=SourceKind.DIRECT,
        product=lot.product,
        scope_lots=lot.lot_number,
    )
    notice = services.resolve_scope(notice, by=quality)
    notice = apply_decision(notice, by=rep, check=_check(notice, rep), comment="忠告性通知")
    doc = services.draft_document(notice, by=quality, kind=DocumentKind.NOTICE)
    apply_issue(doc, by=rep, check=_check(doc, rep))
    row = RecallConsignee.objects.filter(recall=notice).order_by("id").first()
    if row is not None:
        services.record_notice(
            row,
            by=users["service"],
            channel="letter",
            note="挂号信",
            at=timezone.now() - dt.timedelta(days=3),
        )
