"""VIG-5: an administrator loads a newer official release — new codes added, changed terms
updated with the old text kept per release, removed codes retired and still readable; bad
files refused with every problem named and nothing changed."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command

from medvigil.core.models import AuditEntry
from medvigil.imdrf import services
from medvigil.imdrf.models import Release, Term

pytestmark = [pytest.mark.django_db, pytest.mark.req("VIG-5")]

NEW_ROW = {
    "code": "A050408",
    "term": "Foam Leak",
    "definition": "Escape of foam from the device.",
    "Status": "New",
    "Status Description": "Added in the test release.",
    "CodeHierarchy": "A05|A0504|A050408",
}

Files = Callable[..., list[tuple[str, bytes]]]


def load(files: list[tuple[str, bytes]], label: str = "2099", by: Any = None, **kw: Any) -> Any:
    return services.load_release(files, label=label, by=by, **kw)


def test_a_newer_release_adds_changes_and_retires(release_files: Files, admin: Any) -> None:
    files = release_files(
        drop=("A050407",), change={"A050402": "Gas Leak (revised)"}, add=(NEW_ROW,)
    )
    outcome = load(files, by=admin)
    release = outcome.release
    assert outcome.added == ["A050408"]
    assert outcome.changed == ["A050402"]
    assert outcome.retired == ["A050407"]
    assert release.loaded_by == admin and release.annexes == "ABCDEFG"
    assert (release.added, release.changed, release.retired) == (1, 1, 1)
    assert release.summary["retired"] == ["A050407"]

    new = services.lookup("A050408")
    assert new.parent_id == "A0504" and new.added_in == release and new.level == 3
    assert "A050408" in [t.code for t in services.children("A0504")]

    changed = services.lookup("A050402")
    assert changed.term_en == "Gas Leak (revised)" and changed.changed_in == release
    [old] = services.versions(changed)
    assert old.term_en == "Gas/Air Leak" and old.release.label == "2022"
    assert old.replaced_in == release
    shipped = Release.objects.get(label="2022")
    assert services.text_in(changed, shipped)["term_en"] == "Gas/Air Leak"
    assert services.text_in(changed, release)["term_en"] == "Gas Leak (revised)"
    assert services.text_in(changed, None)["term_en"] == "Gas Leak (revised)"


def test_a_retired_code_stays_readable_on_old_events(release_files: Files) -> None:
    release = load(release_files(drop=("A050407",))).release
    term = services.lookup("A050407")  # an old event's code
    assert term is not None and term.retired and term.retired_in == release
    assert term.term_en == "Powder Leak"
    assert services.terms_for(["A050407"])["A050407"].retired
    assert "A050407" not in [t.code for t in services.search("powder leak")]
    assert "A050407" in [t.code for t in services.search("powder leak", include_retired=True)]
    # the event that has it keeps it; a new coding is refused
    assert services.validate_codes("A", ["A050407"], existing=["A050407"]) == ["A050407"]
    with pytest.raises(ValidationError, match="retired in IMDRF release 2099"):
        services.validate_codes("A", ["A050407"])


def test_a_code_that_comes_back_is_restored(release_files: Files) -> None:
    load(release_files(drop=("A050407",)))
    outcome = load(release_files(), label="2100")
    assert outcome.restored == ["A050407"]
    term = services.lookup("A050407")
    assert not term.retired and term.retired_in is None


def test_a_partial_upload_retires_only_within_its_annexes(release_files: Files) -> None:
    outcome = load(release_files(drop=("A050407",), annexes="A"))
    assert outcome.retired == ["A050407"] and outcome.annexes == "A"
    assert not Term.objects.filter(annex__in="BCDEFG", retired=True).exclude(pk="G04081").exists()


def test_a_changed_term_flags_its_chinese_text(release_files: Files) -> None:
    term = Term.objects.get(pk="A050402")
    services.update_translation(term, by=None, version=term.version, term_zh="气体/空气泄漏")
    load(release_files(change={"A050402": "Gas Leak (revised)"}))
    term.refresh_from_db()
    assert term.zh_outdated and term.term_zh == "气体/空气泄漏"
    assert services.versions(term)[0].term_zh == "气体/空气泄漏"


def test_an_unchanged_release_changes_nothing(release_files: Files) -> None:
    versions = {t.pk: t.version for t in Term.objects.all()}
    outcome = load(release_files())
    assert (outcome.added, outcome.changed, outcome.retired) == ([], [], [])
    assert {t.pk: t.version for t in Term.objects.all()} == versions


def test_a_load_is_audited_with_the_release_as_reason(release_files: Files, admin: Any) -> None:
    last = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first()
    load(release_files(drop=("A050407",), add=(NEW_ROW,)), by=admin)
    entries = list(AuditEntry.objects.filter(pk__gt=last))
    assert len(entries) == 4  # the release (created, then completed), one term added, one retired
    assert all(e.reason == "IMDRF release 2099" and e.actor_id == admin.pk for e in entries)


def test_a_dry_run_changes_nothing(release_files: Files) -> None:
    before = AuditEntry.objects.count()
    outcome = load(release_files(drop=("A050407",)), dry_run=True)
    assert outcome.retired == ["A050407"] and outcome.release is None
    assert not Release.objects.filter(label="2099").exists()
    assert not services.lookup("A050407").retired
    assert AuditEntry.objects.count() == before


def test_only_who_may_load_loads(release_files: Files, cs_user: Any, auditor: Any) -> None:
    for user in (cs_user, auditor):
        with pytest.raises(PermissionDenied):
            load(release_files(), by=user)
    assert Release.objects.count() == 1


def test_the_same_release_twice_is_refused(release_files: Files) -> None:
    with pytest.raises(ValidationError, match="loaded already"):
        load(release_files(), label="2022")


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([{"code": "A01", "term": "x\x00y"}], "contains a NUL character"),
        ([{"code": "A01", "term": "x" * 301}], "longer than 300 characters"),
        ([{"code": "A01", "term": ["x"]}], "must be text"),
        ([{"code": "Q01", "term": "x"}], "is not an IMDRF code"),
        ([{"code": "A" + "1" * 10_000, "term": "x"}], "longer than 16 characters"),
        ([{"code": "", "term": "x"}], "The code is missing"),
        ([{"code": "A01", "term": ""}], "A01 has no term"),
        ([{"code": "A0101", "term": "x", "CodeHierarchy": "A77|A0101"}], "parent A77 of A0101"),
        ([{"code": "A0101", "term": "x", "CodeHierarchy": "A01|A0102"}], "does not end with"),
        ("not a list", "Expected a list of terms"),
    ],
)
def test_bad_rows_are_refused_and_nothing_changes(rows: Any, message: str) -> None:
    before = AuditEntry.objects.count()
    with pytest.raises(ValidationError) as exc:
        load([("annexa.json", json.dumps(rows).encode())])
    text = "\n".join(exc.value.messages)
    assert message in text and len(text) < 5000
    assert AuditEntry.objects.count() == before and Release.objects.count() == 1


def test_bad_files_and_labels() -> None:
    for files, message in (
        ([("a.json", b"{not json")], "not valid JSON"),
        ([("a.json", b"")], "The file is empty"),
        ([], "Choose at least one release file"),
        ([("a.csv", b"term,definition\nx,y\n")], "no column “code”"),
    ):
        with pytest.raises(ValidationError, match=message):
            load(files)
    good = [("a.json", json.dumps([{"code": "A01", "term": "x"}]).encode())]
    for label, message in (("", "release's name"), ("x\x00", "NUL"), ("x" * 41, "longer than 40")):
        with pytest.raises(ValidationError, match=message):
            load(good, label=label)


def test_many_problems_are_listed_with_a_cap() -> None:
    rows = [{"code": f"Q{i:02d}", "term": "x"} for i in range(200)]
    with pytest.raises(ValidationError) as exc:
        load([("a.json", json.dumps(rows).encode())])
    assert len(exc.value.messages) == 51 and "151 more problems" in exc.value.messages[-1]


def test_a_csv_release_without_a_hierarchy_column_uses_code_prefixes() -> None:
    csv = (
        b"Code,Term,Definition,Status\n"
        b"A01,Patient Device Interaction Problem,d,\n"
        b"A0101,Patient-Device Incompatibility,d,\n"
        b"A010101,Biocompatibility,d,\n"
        b"A010199,New Csv Term,d,New\n"
    )
    outcome = load([("annex_a.csv", csv)])
    assert "A010199" in outcome.added and services.lookup("A010199").parent_id == "A0101"
    # everything else of Annex A is gone from this (partial) upload: retired, still readable
    assert services.lookup("A0504").retired


def test_an_xlsx_release_is_read() -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["code", "term", "definition", "CodeHierarchy", "Status", "Status Description"])
    ws.append(["B01", "Testing of Actual/Suspected Device", "d", "B01", "", ""])
    ws.append(["B25", "Testing by Simulation", "New term", "B25", "New", ""])
    buf = io.BytesIO()
    wb.save(buf)
    outcome = load([("annexb.xlsx", buf.getvalue())])
    assert outcome.added == ["B25"] and len(outcome.retired) == 23


def test_the_cli_loads_shows_and_translates(tmp_path: Any, release_files: Files) -> None:
    out = io.StringIO()
    call_command("imdrf", "load", stdout=out)
    assert "already" in out.getvalue()
    paths = []
    for name, data in release_files(drop=("A050407",), annexes="A"):
        p = tmp_path / name
        p.write_bytes(data)
        paths += ["--file", str(p)]
    out = io.StringIO()
    call_command("imdrf", "load", "--label", "2099", *paths, "--dry-run", stdout=out)
    assert "Would load release 2099" in out.getvalue() and "A050407" in out.getvalue()
    call_command("imdrf", "load", "--label", "2099", *paths, stdout=io.StringIO())
    out = io.StringIO()
    call_command("imdrf", "show", "A050407", stdout=out)
    assert "A05 Mechanical Problem > A0504 Leak/Splash > A050407 Powder Leak" in out.getvalue()
    assert "retired in 2099" in out.getvalue()
    zh = tmp_path / "zh.csv"
    zh.write_text("code,term_zh\nA05,机械问题\n", encoding="utf-8")
    out = io.StringIO()
    call_command("imdrf", "translations", "--file", str(zh), stdout=out)
    assert "1 terms translated" in out.getvalue()
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="not valid JSON"):
        bad = tmp_path / "bad.json"
        bad.write_bytes(b"{")
        call_command("imdrf", "load", "--label", "2101", "--file", str(bad))
