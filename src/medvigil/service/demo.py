"""Demo service data (loaded by `medvigil demo` after trace's and complaints' demo data):
a service manager and engineers — with a valid, an expired and a missing qualification, a
dealer's engineer — and requests at every stage: new, dispatched, on site with a half-filled
work order, fixed and signed off, closed (one a complaint), voided, a question answered, one
waiting for a loaner; a loaner out, maintenance visits due this week, a quote awaiting the
general manager and one the customer accepted (the service ledger's labour and travel).
Idempotent (skipped when the demo requests exist)."""

from __future__ import annotations

import base64
import datetime as dt
import struct
import zlib
from typing import Any

from django.utils import timezone

from .models import ServiceRequest

DEMO_TITLE = "演示: "


def _png() -> str:
    """A tiny valid PNG (a short black stroke) as the demo signature."""
    width, height = 60, 20
    rows = b"".join(
        b"\x00" + b"".join(b"\x00" if (y == 10 and 5 < x < 55) else b"\xff" for x in range(width))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )
    return "data:image/png;base64," + base64.b64encode(png).decode()


def _user(username: str, name: str, role: str, dept: str) -> Any:
    from medvigil.accounts.demo import DEMO_PASSWORD
    from medvigil.accounts.models import Department, Role, User

    user = User.objects.filter(username=username).first()
    if user is None:
        user = User(
            username=username,
            display_name=name,
            email=f"{username}@demo.medvigil",
            department=Department.objects.filter(code=dept).first(),
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        user.roles.set(Role.objects.filter(code=role))
    return user


def load_demo() -> None:
    if ServiceRequest.objects.filter(title__startswith=DEMO_TITLE).exists():
        return
    from medvigil.accounts.models import User
    from medvigil.core.audit import audit_context
    from medvigil.trace.models import CustomerKind, Unit

    cs = User.objects.filter(username="service").first()
    engineer = User.objects.filter(username="engineer").first()
    units = list(
        Unit.objects.filter(product__code__startswith="DEMO-", status="installed")
        .select_related("product")
        .order_by("pk")[:8]
    )
    if cs is None or engineer is None or len(units) < 6:
        return
    manager = _user("svcmgr", "马骏 Ma Jun (售后经理)", "service_manager", "service")
    expired = _user("engineer2", "黄磊 Huang Lei (工程师, 资质过期)", "service_engineer", "service")
    _user("engineer3", "何平 He Ping (新工程师, 未考核)", "service_engineer", "service")
    dealer_eng = _user("dealereng", "钱进 Qian Jin (经销商工程师)", "sales", "sales")
    with audit_context(actor=manager, source="command:demo"):
        _load(cs, manager, engineer, expired, dealer_eng, units, CustomerKind)


def _load(
    cs: Any,
    manager: Any,
    engineer: Any,
    expired: Any,
    dealer_eng: Any,
    units: list[Any],
    kinds: Any,
) -> None:
    from medvigil.trace.models import Customer

    from .models import WorkOrder
    from .services import dispatching, requests, workorders

    today = timezone.localdate()
    products = {u.product for u in units}
    dealer = Customer.objects.filter(kind=kinds.DEALER, code__startswith="DEMO-").first()
    for p in products:
        dispatching.add_qualification(
            by=manager,
            engineer=engineer,
            product=p,
            trained_on=today - dt.timedelta(days=300),
            passed_on=today - dt.timedelta(days=290),
            score=92,
            expires_on=today + dt.timedelta(days=20 if p == units[0].product else 400),
            certificate=f"SVC-CERT-{p.code}",
        )
        dispatching.add_qualification(
            by=manager,
            engineer=expired,
            product=p,
            trained_on=today - dt.timedelta(days=800),
            passed_on=today - dt.timedelta(days=790),
            score=86,
            expires_on=today - dt.timedelta(days=60),
        )
    dispatching.add_qualification(
        by=manager,
        engineer=dealer_eng,
        product=units[0].product,
        dealer=dealer,
        trained_on=today - dt.timedelta(days=100),
        passed_on=today - dt.timedelta(days=95),
        score=88,
        expires_on=today + dt.timedelta(days=600),
    )
    now = timezone.now()

    def new(i: int, hours_ago: float, level: str, zone: str, title: str) -> ServiceRequest:
        return requests.create_service_request(
            by=cs,
            channel="phone",
            received_at=now - dt.timedelta(hours=hours_ago),
            unit=units[i],
            fault_level=level,
            zone=zone,
            title=DEMO_TITLE + title,
            description=title,
            contact_name="设备科 张工",
            contact_phone="13900000000",
            contact_email="zhang.shebeike@hospital.example",  # a sign-off code goes here
        )

    # 1. new, not dispatched
    new(0, 0.5, "down", "city", "设备无法开机")
    # 2. dispatched, accepted
    sr = new(1, 2, "degraded", "suburb", "报警声音偏小")
    wo = dispatching.dispatch(sr, by=manager, version=sr.version, engineer=engineer)
    workorders.accept(wo, by=engineer, version=wo.version)
    # 3. on site, half-filled work order
    sr = new(2, 4, "down", "city", "输液精度偏差")
    wo = dispatching.dispatch(sr, by=manager, version=sr.version, engineer=engineer)
    wo = workorders.accept(wo, by=engineer, version=wo.version)
    wo = workorders.arrive(wo, by=engineer, version=wo.version)
    workorders.save_fields(
        wo,
        by=engineer,
        version=wo.version,
        values={"diagnosis": "泵头压力传感器漂移, 校准后仍超差。"},
    )
    # 4. fixed, signed, closed: routine
    sr = new(3, 30, "minor", "city", "屏幕划痕, 触控不灵")
    wo = dispatching.dispatch(sr, by=manager, version=sr.version, engineer=engineer)
    wo = workorders.accept(wo, by=engineer, version=wo.version)
    wo = workorders.arrive(wo, by=engineer, version=wo.version)
    wo = workorders.save_fields(
        wo,
        by=engineer,
        version=wo.version,
        values={
            "diagnosis": "触摸屏排线松动",
            "actions": "重新固定排线, 清洁屏幕",
            "verification": "开机自检、触控全区域测试",
            "test_data": "自检通过; 触控 9/9 点响应",
            "verification_passed": True,
            "training_given": True,
            "training_notes": "护士 2 名: 屏幕清洁与保护",
            "result": WorkOrder.Result.FIXED,
            "customer_feedback": "满意",
        },
    )
    wo = workorders.sign_off(
        wo, by=engineer, version=wo.version, signer_name="张工", signature=_png()
    )
    workorders.close_work_order(
        wo, by=engineer, version=wo.version, is_complaint=False, note="使用磨损, 非产品质量问题"
    )
    # 5. fixed, closed: a complaint opened from the work order (SVC-11)
    sr = new(4, 50, "down", "suburb", "运行中突然断电")
    wo = dispatching.dispatch(sr, by=manager, version=sr.version, engineer=engineer)
    wo = workorders.accept(wo, by=engineer, version=wo.version)
    wo = workorders.arrive(wo, by=engineer, version=wo.version)
    wo = workorders.save_fields(
        wo,
        by=engineer,
        version=wo.version,
        values={
            "diagnosis": "电源板电容鼓包",
            "actions": "更换电源板",
            "verification": "连续运行 2 小时",
            "test_data": "输出电压 12.01 V; 无断电",
            "verification_passed": True,
            "result": WorkOrder.Result.FIXED,
        },
    )
    wo = workorders.sign_off(
        wo, by=engineer, version=wo.version, signer_name="李主任", signature=_png()
    )
    workorders.close_work_order(
        wo, by=engineer, version=wo.version, is_complaint=True, note="产品质量问题: 电源板失效"
    )
    # 6. a question answered on the phone
    sr = new(5, 6, "question", "remote", "如何更换耗材")
    requests.answer_question(
        sr, by=cs, version=sr.version, resolution="电话指导更换步骤, 客户已完成"
    )
    # 8. price list and a paid quote with a discount above the limit, waiting for the GM
    from .models import PriceListItem
    from .services import quotes

    for code, name, kind, unit, price in (
        ("PS-01", "压力传感器", "part", "pcs", "800.00"),
        ("PB-02", "电源板", "part", "pcs", "1200.00"),
        ("LAB-H", "工时", "labour", "h", "200.00"),
        ("TRV-CITY", "市区差旅", "travel", "trip", "150.00"),
        ("TRV-SUB", "郊区差旅", "travel", "trip", "300.00"),
    ):
        PriceListItem.objects.create(code=code, name=name, kind=kind, unit=unit, unit_price=price)
    sr = new(1, 3, "degraded", "suburb", "跌落损坏 (不保修)")
    sr = requests.update_service_request(
        sr,
        by=cs,
        version=sr.version,
        warranty_exclusion="misuse",
        exclusion_reason="设备跌落, 外壳破裂 (人为原因)",
    )
    quotes.create_quote(
        sr,
        by=cs,
        lines=[{"item": "PB-02"}, {"item": "LAB-H", "quantity": "2"}, {"item": "TRV-SUB"}],
        discount_percent="15",
        discount_reason="年度服务合同客户",
    )
    # 9. a loaner out at the customer (from our stock), and the maintenance plan ahead
    from medvigil.trace.models import Unit, UnitStatus

    from .services import loans, maintenance

    spare = (
        Unit.objects.filter(
            product=units[2].product, status=UnitStatus.IN_STOCK, holder__isnull=True
        )
        .order_by("pk")
        .first()
    )
    loan_for = ServiceRequest.objects.filter(title=DEMO_TITLE + "输液精度偏差").first()
    if spare is not None and loan_for is not None and loan_for.customer_id:
        loans.issue_loan(
            by=manager,
            unit=spare,
            customer=loan_for.customer,
            due_back_on=today + dt.timedelta(days=3),
            request=loan_for,
            notes="免费备用机 (12 小时内未修复)",
        )
    maintenance.generate_visits(by=manager)
    _visit_this_week(engineer, units[0], today)
    # 10. fixed and signed off, the complaint question still open (request "fixed"); a
    # request voided as a duplicate; a paid quote the customer accepted (the ledger's labour
    # and travel)
    sr = new(3, 8, "degraded", "city", "打印模块卡纸")
    wo = dispatching.dispatch(sr, by=manager, version=sr.version, engineer=engineer)
    wo = workorders.accept(wo, by=engineer, version=wo.version)
    wo = workorders.arrive(wo, by=engineer, version=wo.version)
    wo = workorders.save_fields(
        wo,
        by=engineer,
        version=wo.version,
        values={
            "diagnosis": "打印胶辊老化",
            "actions": "更换胶辊, 清洁走纸通道",
            "verification": "连续打印 20 张",
            "test_data": "无卡纸",
            "verification_passed": True,
            "result": WorkOrder.Result.FIXED,
        },
    )
    workorders.sign_off(wo, by=engineer, version=wo.version, signer_name="王护士", signature=_png())
    dup = new(0, 0.4, "down", "city", "设备无法开机 (重复来电)")
    requests.void_service_request(dup, by=cs, version=dup.version, reason="同一故障重复来电")
    paid = ServiceRequest.objects.filter(title=DEMO_TITLE + "屏幕划痕, 触控不灵").first()
    if paid is not None:
        q = quotes.create_quote(
            paid,
            by=cs,
            lines=[{"item": "LAB-H", "quantity": "1.5"}, {"item": "TRV-CITY"}],
        )
        quotes.record_customer_answer(
            q, by=cs, version=q.version, accepted=True, customer_name="张工"
        )
    # 7. not fixed in time: a free loaner is owed
    if len(units) > 6:
        sr = new(6, 40, "down", "city", "主板故障待备件")
        wo = dispatching.dispatch(sr, by=manager, version=sr.version, engineer=engineer)
        wo = workorders.accept(wo, by=engineer, version=wo.version)
        workorders.arrive(wo, by=engineer, version=wo.version)


def _visit_this_week(engineer: Any, unit: Any, today: dt.date) -> None:
    """At least one onsite maintenance visit due this week (the plan's dates follow the
    installations, which may put none there), assigned to the engineer."""
    from .models import MaintenanceVisit

    week_end = today + dt.timedelta(days=6 - today.weekday())
    due = MaintenanceVisit.objects.filter(
        kind=MaintenanceVisit.Kind.VISIT,
        status=MaintenanceVisit.Status.PLANNED,
        due_on__range=(today, week_end),
    )
    if not due.exists():
        MaintenanceVisit.objects.get_or_create(
            unit=unit,
            kind=MaintenanceVisit.Kind.VISIT,
            due_on=week_end,
            defaults={"assigned_to": engineer, "notes": "演示: 本周到期的巡检"},
        )
    else:
        for v in due.filter(assigned_to__isnull=True)[:3]:
            v.assigned_to = engineer
            v.save()
