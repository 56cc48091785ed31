"""The demo data: a CAPA from a demo complaint with actions at different stages, one ready for
its signed closure, suppliers, a nonconformity with a concession and a supplier request."""

from __future__ import annotations

import pytest

from ..models import Capa, CapaAction, Nonconformity, Scar, Supplier


@pytest.mark.req("CAPA-1", "CAPA-2", "CAPA-3")
def test_demo_loads_and_is_idempotent(db):
    from medvigil.accounts.demo import load_all
    from medvigil.core.audit import audit_context

    with audit_context(source="test:demo"):
        load_all()
        load_all()
    from_complaint = Capa.objects.filter(source_kind="complaint", status="open").first()
    assert from_complaint is not None and from_complaint.source_record() is not None
    statuses = {a.status for a in from_complaint.actions.all()}
    assert statuses == {CapaAction.Status.DONE, CapaAction.Status.OPEN}
    assert Capa.objects.filter(status="open", effective=True).get().can_close()
    assert Supplier.objects.count() == 2
    nc = Nonconformity.objects.get()
    assert nc.disposition == "concession" and nc.lots.exists()
    assert nc.status == Nonconformity.Status.DISPOSITIONED  # approved with an e-signature
    assert Scar.objects.filter(nonconformity=nc).exists()


@pytest.mark.req("CAPA-2")
def test_the_demo_command_approves_and_signs_the_concession(db, caplog):
    """`medvigil demo` loads every app inside one transaction, where the password check (a
    durable transaction) cannot run: the concession is still approved and signed by the
    management representative through the service, and nothing is left awaiting approval."""
    import io

    from django.core.management import call_command

    from medvigil.core.models import Signature
    from medvigil.core.signatures.services import signature_matches, signatures_for

    call_command("demo", stdout=io.StringIO())
    assert "awaiting approval" not in caplog.text
    nc = Nonconformity.objects.get()
    assert nc.status == Nonconformity.Status.DISPOSITIONED
    assert nc.concession_approved_by is not None
    assert nc.concession_approved_by.username == "mgmtrep"
    [sig] = signatures_for(nc)
    assert sig.signer_id == nc.concession_approved_by_id
    assert sig.meaning == Signature.Meaning.APPROVED and signature_matches(sig)
