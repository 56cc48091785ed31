"""Demo feedback (loaded by `medvigil demo` after trace's demo data): a routed complaint on a
demo unit, a serious one, a paused one and an inquiry answered and closed. Idempotent (skipped
when the demo records exist). The narrative demo set (MAUDE-based, every state) is added on
top of this by issue #9's demo step."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .models import Feedback

DEMO_REF = "demo:complaints:"


def load_demo() -> None:
    if Feedback.objects.filter(source_reference__startswith=DEMO_REF).exists():
        return
    from medvigil.accounts.models import User
    from medvigil.core.audit import audit_context
    from medvigil.trace.models import Unit

    from .services import clocks, intake

    cs = User.objects.filter(username="service").first()
    if cs is None:
        return
    unit = (
        Unit.objects.filter(product__code__startswith="DEMO-", status="installed")
        .order_by("pk")
        .first()
    )
    now = timezone.now()
    with audit_context(actor=cs, source="command:demo"):
        intake.register_feedback(
            by=cs,
            channel="phone",
            received_at=now - dt.timedelta(hours=3),
            title="输注泵堵塞报警未响",
            description="护士反映输注过程中管路打折, 设备未发出堵塞报警, "
            "及时人工发现, 未影响患者。",
            complainant_name="李护士长",
            complainant_organisation=str(unit.holder) if unit and unit.holder else "示例医院",
            complainant_phone="13800000001",
            unit=unit,
            category="product_quality",
            patient_involvement="no_harm",
            customer_wants=["repair", "explanation"],
            visit_needed=True,
            source_reference=f"{DEMO_REF}1",
        )
        intake.register_feedback(
            by=cs,
            channel="email",
            language="en",
            received_at=now - dt.timedelta(hours=1),
            title="Patient burned by heating pad",
            description="The heating pad overheated during use; the patient suffered a "
            "second-degree burn on the back.",
            complainant_name="Dr. Chen",
            complainant_organisation="Demo Hospital",
            complainant_email="chen@example.com",
            category="product_quality",
            patient_involvement="injury",
            patient_details="Female, 67, second-degree burn, treated on the ward.",
            customer_wants=["explanation", "compensation"],
            source_reference=f"{DEMO_REF}2",
        )
        waiting = intake.register_feedback(
            by=cs,
            channel="dealer",
            received_at=now - dt.timedelta(days=1),
            title="安装后打印机无法连接",
            description="经销商反映安装调试后设备无法连接打印机。",
            complainant_organisation="华东医疗器械经销公司",
            category="installation",
            customer_wants=["visit"],
            visit_needed=True,
            source_reference=f"{DEMO_REF}3",
        )
        clocks.pause_clock(waiting, by=cs, reason="等待经销商提供打印机型号")
        intake.register_feedback(
            by=cs,
            kind="inquiry",
            channel="phone",
            received_at=now - dt.timedelta(days=2),
            title="如何清洁设备外壳",
            description="用户询问设备外壳的清洁方法。",
            answer="可用75%酒精擦拭, 详见说明书5.2节。",
            source_reference=f"{DEMO_REF}4",
        )
