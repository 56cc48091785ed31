"""Demo data (loaded by `medvigil demo` after the complaints' demo): a CAPA opened from a demo
complaint with actions at different stages (one done, one due tomorrow, one due in two
weeks), a second CAPA whose actions are done and whose effectiveness is verified (ready for
the signed closure), two suppliers, an incoming nonconformity with a concession (proposed by
quality, approved by the management representative with an e-signature) and a supplier
corrective-action request. Idempotent."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .models import Capa, Supplier

DEMO_CODE = "DEMO-SUP-01"


def load_demo() -> None:
    if Supplier.objects.filter(code=DEMO_CODE).exists():
        return
    from medvigil.accounts.models import User
    from medvigil.complaints.models import Evaluation, Feedback, Handoff
    from medvigil.core.audit import audit_context
    from medvigil.trace.models import Lot

    from .services import capa as capa_svc
    from .services import nonconformity as nc_svc
    from .services import suppliers as sup_svc

    users = {
        u.username: u
        for u in User.objects.filter(username__in=["quality", "tech", "mgmtrep", "logistics"])
    }
    quality = users.get("quality")
    if quality is None:
        return
    tech = users.get("tech", quality)
    mgmtrep = users.get("mgmtrep")
    logistics = users.get("logistics", quality)
    today = timezone.localdate()

    with audit_context(actor=quality, source="command:demo"):
        # CAPA-1 from a demo complaint: through the hand-off when one is waiting, else linked
        pending = (
            Evaluation.objects.filter(capa_handoff=Handoff.PENDING)
            .select_related("feedback")
            .first()
        )
        if pending is not None:
            capa = capa_svc.open_capa_from_complaint(pending, by=quality)
        else:
            fb = Feedback.objects.filter(source_reference="demo:complaints:1").first()
            capa = capa_svc.create_capa(
                by=quality,
                title=fb.title if fb else "输注泵堵塞报警未响",
                problem=(fb.description if fb else "")
                or "输注过程中管路打折, 设备未发出堵塞报警。",
                source_kind="complaint",
                source=fb,
            )
        capa = capa_svc.update_capa(
            capa,
            by=quality,
            version=capa.version,
            risk="high",
            risk_assessment="堵塞报警失效可能延误治疗 (ISO 14971 危害: 输液中断)。",
            containment="冻结同批次库存; 向使用医院发出临时使用提示。",
            method="fishbone",
            factor="material",
            whys=[
                "堵塞报警未响 — 压力传感器读数偏低",
                "传感器零点漂移",
                "来料传感器批次校准不合格",
                "来料检验未测零点",
                "检验规程未包含该项目",
            ],
            root_cause="来料检验规程缺少压力传感器零点检测项目。",
            due_date=today + dt.timedelta(days=30),
        )
        done = capa_svc.add_action(
            capa,
            by=quality,
            description="隔离并复检库存中的同批次压力传感器",
            owner=logistics,
            due_date=today,
            kind="correction",
        )
        capa_svc.complete_action(
            done, by=logistics, version=done.version, result="复检 120 只, 剔除 7 只。"
        )
        capa_svc.add_action(
            capa,
            by=quality,
            description="修订来料检验规程, 增加零点检测",
            owner=quality,
            due_date=today + dt.timedelta(days=1),
        )
        capa_svc.add_action(
            capa,
            by=quality,
            description="对供应商进行现场审核并要求其纠正",
            owner=tech,
            due_date=today + dt.timedelta(days=14),
            kind="preventive",
        )

        # a CAPA ready for its signed closure
        ready = capa_svc.create_capa(
            by=quality,
            title="内审发现: 不合格品标识不清",
            problem="内审发现仓库不合格品区标识不清, 存在误用风险。",
            source_kind="audit",
            risk="medium",
            containment="立即补贴标识。",
            method="5m1e",
            factor="method",
            root_cause="仓库管理规程未规定不合格品区标识要求。",
        )
        act = capa_svc.add_action(
            ready,
            by=quality,
            description="修订仓库管理规程并培训",
            owner=logistics,
            due_date=today,
        )
        capa_svc.complete_action(
            act, by=logistics, version=act.version, result="规程已修订, 培训 6 人。"
        )
        ready = Capa.objects.get(pk=ready.pk)
        capa_svc.verify_effectiveness(
            ready,
            by=quality,
            version=ready.version,
            effective=True,
            evidence="复查一个月, 标识完整, 未再发现误用。",
        )
        # CAPA-1: an interim CAPA report drafted in Chinese, ready for its signed issue
        from .services.reports import draft_capa_report

        draft_capa_report(Capa.objects.get(pk=ready.pk), by=quality, language="zh-hans")

        # CAPA-3: suppliers
        supplier = sup_svc.create_supplier(
            by=quality,
            code=DEMO_CODE,
            name="华东传感器有限公司",
            supplies="压力传感器",
            contact_name="钱经理",
            contact_email="qa@sensor.example",
            status="approved",
        )
        sup_svc.create_supplier(
            by=quality,
            code="DEMO-SUP-02",
            name="苏州注塑件厂",
            supplies="外壳",
            status="conditional",
        )

        # CAPA-2: an incoming nonconformity with a concession
        lot = Lot.objects.filter(product__code__startswith="DEMO-").order_by("pk").first()
        nc = nc_svc.create_nonconformity(
            by=logistics,
            title="来料外壳划痕",
            stage="incoming",
            description="来料检验发现外壳表面轻微划痕, 不影响功能和安全。",
            quantity=40,
            product=lot.product if lot else None,
            lots=[lot] if lot else [],
            supplier=supplier,
        )
        nc = nc_svc.record_segregation(
            nc, by=logistics, version=nc.version, location="不合格品区 A-3"
        )
        nc = nc_svc.decide_disposition(
            nc,
            by=quality,
            version=nc.version,
            disposition="concession",
            reason="划痕位于非可视面, 经评估不影响功能和安全, 建议让步接收。",
        )
        sup_svc.scar_from_nonconformity(nc, by=quality, due_date=today + dt.timedelta(days=10))
    if mgmtrep is not None:
        # the management representative approves and signs through the service, as on the
        # page; `medvigil demo` loads every app in one transaction, where the password check
        # (a durable transaction of its own) cannot run: a loader check stands in for it
        from medvigil.core.models import Signature
        from medvigil.core.signatures.services import loader_check

        with audit_context(actor=mgmtrep, source="command:demo"):
            nc_svc.approve_concession(
                nc,
                by=mgmtrep,
                comment="同意让步接收, 限本批次。",
                check=loader_check(nc, user=mgmtrep, meaning=Signature.Meaning.APPROVED),
            )
