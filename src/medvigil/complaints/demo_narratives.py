"""The narrative demo set (issue #9 demo step, FBK-10): complaints in every state built from
real FDA MAUDE narratives (ICIJ sample, /work/shared/data/external/maude; the report key is
kept in `source_reference`), some translated to Chinese, linked to demo units; a year of
older complaints with categories and root causes, so the analysis page and the year-end
summary have something to show; and a cluster of the same problem that raises an early
warning to quality. Loaded by `medvigil demo` after trace's and the first complaints demo;
idempotent.

The later stages (evaluation, investigation, resolution, closure) are written here as plain
records under the demo's audit context, because their services belong to the other stages
of issue #9; when those land, `_advance` is the one place to switch to them.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.utils import timezone

from .models import Evaluation, Feedback, Investigation, Resolution

REF = "demo:complaints:maude:"

# (MAUDE report key, state, language, title, description, category, patient involvement,
#  root-cause factor or "")
NARRATIVES: list[tuple[str, str, str, str, str, str, str, str]] = [
    (
        "3282150",
        "received",
        "en",
        "Door jammed alarm in the event log",
        "During the evaluation of a returned infusion pump, 5 occurrences of a door jammed "
        "alarm were identified in the event history log. There was no patient injury or "
        "medical intervention required. No additional information is available.",
        "product_quality",
        "none",
        "",
    ),
    (
        "5028009",
        "routed",
        "zh-hans",
        "上游堵塞信息未显示",
        "在对一台输注泵进行功能测试时, 设备未能显示上游堵塞提示信息。未涉及患者。",
        "product_quality",
        "none",
        "",
    ),
    (
        "4164877",
        "evaluation",
        "zh-hans",
        "力传感器报警, 排气时胰岛素喷出",
        "据报告, 用户收到力传感器系统受损报警, 并且胰岛素泵在排气时有胰岛素喷出。当时用户血糖为 "
        "258 mg/dL。已进行故障排除, 告知将更换胰岛素泵。无其他信息。",
        "product_quality",
        "no_harm",
        "",
    ),
    (
        "4557428",
        "investigation",
        "en",
        "Intermittent button response, corroded keypad",
        "The insulin pump was received with intermittent button response due to corroded "
        "keypad traces. No button error alarm noted. The pump also had minor scratches on the "
        "LCD window, a cracked reservoir tube lip, a cracked belt clip slot and cracked battery "
        "tube threads.",
        "product_quality",
        "none",
        "environment",
    ),
    (
        "5098149",
        "resolution",
        "zh-hans",
        "输注管路在接头处渗漏",
        "据报告, 七套不同的输注管路均在接头处渗漏。未报告不良事件。患者无法提供批号, "
        "手头有一套可退回用于产品评估。",
        "product_quality",
        "no_harm",
        "material",
    ),
    (
        "2300308",
        "replied",
        "zh-hans",
        "低血糖住院",
        "用户报告因低血糖住院, 血糖读数为 34 mg/dL。用户称当时在睡眠中, 由家属唤醒, "
        "家属随后呼叫了急救人员。无其他信息。",
        "product_quality",
        "injury",
        "method",
    ),
    (
        "3959401",
        "closed",
        "en",
        "Inaccurate control solution results",
        "The reporter alleged inaccurate control solution results. The results did not meet "
        "the accuracy/precision criteria and the alleged inaccuracy was not resolved with "
        "troubleshooting. There was no indication that the product caused or contributed to "
        "an adverse event.",
        "product_quality",
        "none",
        "measurement",
    ),
    (
        "2799613",
        "voided",
        "en",
        "Two very different glucose readings",
        "Caller states the patient tested 22.5 mmol/L on one system and 1.4 mmol/L on another "
        "while being transported to the hospital. The patient received treatment for "
        "hypoglycemia and was admitted. Entered twice by mistake.",
        "product_quality",
        "injury",
        "",
    ),
]

ORDER = ["routed", "evaluation", "investigation", "resolution", "replied", "closed"]
HISTORY_CATEGORIES = ["product_quality", "product_quality", "installation", "usage", "delivery"]
FACTORS = [f for f, _label in Investigation.Factor.choices]


def _advance(fb: Feedback, state: str, *, by: Any, factor: str, at: dt.datetime) -> None:
    """Carry a routed complaint on to `state`, writing each stage's record on the way."""
    if state in ("received", "routed"):
        return
    if state == "voided":
        from .services import intake

        intake.void_feedback(fb, by=by, version=fb.version, reason="重复录入 / entered twice")
        return
    for step in ORDER[1 : ORDER.index(state) + 1]:
        fb.refresh_from_db()
        fb.check_transition(step)
        if step == "evaluation":
            Evaluation.objects.create(
                feedback=fb,
                nonconforming="yes" if factor else "unknown",
                device_related="yes" if factor else "unknown",
                summary="评估: 需调查 / to be investigated",
                capa_needed=bool(factor),
                evaluated_by=by,
                evaluated_at=at,
            )
        elif step == "investigation":
            Investigation.objects.create(
                feedback=fb,
                method="5m1e",
                factor=factor,
                analysis="退回产品检测 / returned product tested",
                root_cause=f"5M1E: {factor}" if factor else "",
                responsibility="company" if factor else "undetermined",
                investigator=by,
                started_at=at,
                completed_at=at if state != "investigation" else None,
            )
        elif step == "resolution":
            Resolution.objects.create(
                feedback=fb,
                remedies=["replace"],
                remedy_detail="更换设备 / device replaced",
                corrective_action="加强来料检验 / incoming inspection tightened",
                agreed_at=at,
                agreed_by=by,
            )
        elif step == "replied":
            res = fb.current_resolution or fb.resolutions.order_by("-pk").first()
            if res is not None:
                res.reply_text = "已更换设备并说明原因。/ Device replaced; cause explained."
                res.reply_channel = "phone"
                res.reply_sent_at = at
                res.reply_sent_by = by
                res.save()
            fb.first_response_at = fb.first_response_at or at
        elif step == "closed":
            fb.resolved_at = at
            fb.closed_at = at
        fb.status = step
        fb.save()


def load_narratives() -> None:
    if Feedback.objects.filter(source_reference__startswith=REF).exists():
        return
    from medvigil.accounts.models import User
    from medvigil.core.audit import audit_context
    from medvigil.trace.models import Product, Unit

    from .services import analysis, intake

    cs = User.objects.filter(username="service").first()
    qe = User.objects.filter(username="quality").first() or cs
    if cs is None:
        return
    units = list(
        Unit.objects.filter(product__code="DEMO-01", status="installed")
        .select_related("holder")
        .order_by("pk")[:12]
    )
    products = list(Product.objects.filter(code__startswith="DEMO-").order_by("code")[:6])
    now = timezone.now()
    rng = random.Random(9)
    with audit_context(actor=cs, source="command:demo"):
        for i, (key, state, lang, title, text, category, involvement, factor) in enumerate(
            NARRATIVES
        ):
            unit = units[i % len(units)] if units else None
            fb = intake.register_feedback(
                by=cs,
                channel=["phone", "email", "dealer", "visit"][i % 4],
                language=lang,
                received_at=now - dt.timedelta(days=12 - i, hours=i),
                title=title,
                description=text,
                complainant_name="示例联系人" if lang == "zh-hans" else "Demo contact",
                complainant_organisation=str(unit.holder) if unit and unit.holder else "示例医院",
                complainant_phone=f"1380000{1000 + i}",
                unit=unit.pk if unit else None,
                category=category,
                patient_involvement=involvement,
                customer_wants=["explanation"],
                source_reference=f"{REF}{key}",
                route=state != "received",
            )
            _advance(fb, state, by=qe, factor=factor, at=now - dt.timedelta(days=max(0, 8 - i)))
        # a year of older complaints for the analysis (closed), spread over the quarters
        for n in range(36):
            when = now - dt.timedelta(days=30 + rng.randint(0, 330), hours=rng.randint(0, 8))
            product = products[n % len(products)] if products else None
            fb = intake.register_feedback(
                by=cs,
                channel=rng.choice(["phone", "email", "dealer"]),
                received_at=when,
                title=f"历史投诉 {n + 1}",
                description="历史示例投诉, 用于季度分析。/ Earlier complaint for the analysis.",
                complainant_organisation="示例医院",
                product=product.pk if product else None,
                category=rng.choice(HISTORY_CATEGORIES),
                patient_involvement=rng.choice(["none", "none", "no_harm", "risk"]),
                source_reference=f"{REF}history:{n + 1}",
            )
            _advance(fb, "closed", by=qe, factor=rng.choice(FACTORS), at=when)
    # the narratives are one product + category within days of each other: the early warning
    analysis.early_warnings(now)
