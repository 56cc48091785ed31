"""Demo 8D report (FBK-8): a draft drawn up from the first demo complaint, so that the demo
shows one (loaded by `medvigil demo` after the demo feedback). Idempotent."""

from __future__ import annotations


def load_demo() -> None:
    from medvigil.accounts.models import User
    from medvigil.core.audit import audit_context

    from .demo import DEMO_REF
    from .models import EightDReport, Feedback
    from .services.eight_d import draft_eight_d

    if EightDReport.objects.exists():
        return
    fb = (
        Feedback.objects.filter(source_reference__startswith=DEMO_REF, kind="complaint")
        .exclude(status="voided")
        .order_by("pk")
        .first()
    )
    cs = User.objects.filter(username="service").first()
    if fb is None or cs is None:
        return
    with audit_context(actor=cs, source="command:demo"):
        draft_eight_d(fb, by=cs, language="zh-hans")
