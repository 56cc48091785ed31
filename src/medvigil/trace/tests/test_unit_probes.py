"""#13: the unit page reads, in the unit's own query, whether the unit has sale lines,
installations, returns, signatures, attachments and rows of each timeline provider, and skips
the queries of what it has none of — showing exactly what it showed before (TRC-7)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from medvigil.core.attachments.services import attach
from medvigil.core.models import Signature
from medvigil.core.records.probes import rows_of
from medvigil.core.registry import (
    TimelineEvent,
    register_timeline_provider,
    timeline_for,
    timeline_sources,
    unregister_timeline_provider,
)

from .. import views_trace
from ..models import SaleLine, Unit
from ..queries import BACKWARD_RELATED, backward_queryset

pytestmark = [pytest.mark.django_db, pytest.mark.req("TRC-7")]

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path / "media"


def probed(unit: Unit) -> Unit:
    return backward_queryset(timeline=True, panels=True).get(pk=unit.pk)


def sign(unit: Unit, user: Any) -> Signature:
    return Signature.objects.create(
        content_type=ContentType.objects.get_for_model(Unit),
        object_id=str(unit.pk),
        signer=user,
        printed_name="Q. Engineer",
        signed_at=timezone.now(),
        meaning=Signature.Meaning.REVIEWED,
        content_hash="0" * 64,
    )


def test_the_probes_say_which_rows_a_unit_has(world: Any, quality_user: Any) -> None:
    a1, a4 = probed(world.a_units[0]), probed(world.a_units[3])
    assert a1.probe_sale_lines and a1.probe_installations and not a1.probe_returns
    assert not (a4.probe_sale_lines or a4.probe_installations or a4.probe_returns)
    assert not (a4.probe_attachments or a4.probe_signatures)
    attach(
        world.a_units[3],
        uploaded_file=SimpleUploadedFile("r.pdf", PDF, content_type="application/pdf"),
        by=quality_user,
    )
    sign(world.a_units[3], quality_user)
    a4 = probed(world.a_units[3])
    assert a4.probe_attachments and a4.probe_signatures
    # by content type and key: the lot with the same key and the other units have none
    assert not any(
        probed(u).probe_attachments or probed(u).probe_signatures for u in world.a_units[:3]
    )


def test_a_provider_is_called_only_for_a_unit_with_rows_of_its_source(
    world: Any, quality_user: Any
) -> None:
    calls: list[int] = []

    @timeline_sources(rows_of(SaleLine, "unit"))
    def sold(unit: Any, user: Any) -> Any:
        calls.append(unit.pk)
        yield TimelineEvent(date=None, kind="test", title="sold-provider")

    register_timeline_provider(sold)
    try:
        a1, a4 = world.a_units[0], world.a_units[3]
        assert not any(e.title == "sold-provider" for e in timeline_for(probed(a4), quality_user))
        assert calls == []
        assert any(e.title == "sold-provider" for e in timeline_for(probed(a1), quality_user))
        assert calls == [a1.pk]
        # a unit read without the probes: every provider is called, as before
        timeline_for(Unit.objects.get(pk=a4.pk), quality_user)
        assert calls == [a1.pk, a4.pk]
    finally:
        unregister_timeline_provider(sold)


def _page(client: Any, unit: Unit) -> str:
    html = client.get(reverse("trace:unit_detail", args=[unit.pk])).content.decode()
    return re.sub(r'(csrfmiddlewaretoken" value=|X-CSRFToken": )"[^"]+"', r"\1''", html)


def test_the_page_is_the_same_with_and_without_the_probes(
    world: Any, client_for: Any, quality_user: Any, monkeypatch: Any
) -> None:
    attach(
        world.a_units[0],
        uploaded_file=SimpleUploadedFile("r.pdf", PDF, content_type="application/pdf"),
        by=quality_user,
    )
    sign(world.a_units[0], quality_user)
    c = client_for(quality_user)
    probed_pages = [_page(c, u) for u in world.a_units + world.b_units]
    assert "r.pdf" in probed_pages[0] and "Q. Engineer" in probed_pages[0]
    monkeypatch.setattr(
        views_trace,
        "backward_queryset",
        lambda **kw: Unit.objects.select_related(*BACKWARD_RELATED),
    )
    assert [_page(c, u) for u in world.a_units + world.b_units] == probed_pages


def test_a_unit_with_nothing_elsewhere_costs_no_query_of_those_kinds(
    world: Any, client_for: Any, quality_user: Any, django_assert_num_queries: Any
) -> None:
    c = client_for(quality_user)
    url = reverse("trace:unit_detail", args=[world.a_units[3].pk])
    c.get(url)
    with django_assert_num_queries(4):  # session, user, the unit with its probes, history
        c.get(url)
