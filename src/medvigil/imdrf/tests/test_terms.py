"""VIG-5: the shipped Annexes A–G, their hierarchy, lookup, search in both languages and the
check of codes other apps store."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import ValidationError

from medvigil.imdrf import services
from medvigil.imdrf.models import Placement, Release, Term

pytestmark = [pytest.mark.django_db, pytest.mark.req("VIG-5")]


def translate(code: str, zh: str) -> Term:
    term = Term.objects.get(pk=code)
    return services.update_translation(term, by=None, version=term.version, term_zh=zh)


def test_the_shipped_release_is_loaded_on_migrate_with_every_annex() -> None:
    release = Release.objects.get(label="2022")
    assert release.shipped and release.annexes == "ABCDEFG"
    assert release.terms == Term.objects.count() == 1756
    counts = {a: Term.objects.filter(annex=a).count() for a in "ABCDEFG"}
    assert counts == {"A": 478, "B": 24, "C": 151, "D": 41, "E": 700, "F": 66, "G": 296}
    assert "gorczyca/imdrf-ontology" in release.note and release.sha256


def test_loading_again_is_a_no_op() -> None:
    assert services.ensure_shipped_release() is None
    assert Release.objects.count() == 1


def test_hierarchy_parent_children_and_path() -> None:
    term = services.lookup("a010101")
    assert term is not None and term.term_en == "Biocompatibility" and term.level == 3
    assert [t.code for t in services.path("A010101")] == ["A01", "A0101", "A010101"]
    kids = [t.code for t in services.children("A0101")]
    assert kids == ["A010101", "A010102", "A010103"]
    assert services.path("A01")[0].parent_id is None
    # G codes have a 3-digit child segment: G01 > G01001
    assert [t.code for t in services.path("G01001")] == ["G01", "G01001"]


def test_annex_e_terms_under_two_parents() -> None:
    brain = services.lookup("E0102")
    assert brain is not None and brain.parent_id == "E01"
    assert [t.code for t in services.also_under(brain)] == ["E20"]
    assert "E0102" in [t.code for t in services.children("E20")]
    assert "E0102" in [t.code for t in services.children("E01")]
    assert Placement.objects.filter(term_id="E0102", parent_id="E20").exists()
    # the duplicate row with the older text (E120501 under E22) does not replace the first
    assert services.lookup("E120501").term_en == "Elevated ketones/Diabetic Ketoacidosis"


def test_status_from_the_data_retired_and_not_selectable() -> None:
    retired = services.lookup("G04081")
    assert retired is not None and retired.retired and retired.retired_in.label == "2022"
    group = services.lookup("G01")
    assert group is not None and not group.selectable


def test_lookup_of_unknown_and_malformed_codes() -> None:
    assert services.lookup("A9999") is None
    assert services.lookup("x" * 100_000) is None
    assert services.lookup("A01\x00") is None
    assert services.lookup(None) is None
    assert services.lookup(12) is None
    assert services.path("nope") == [] and services.children("nope") == []


def test_search_by_code_prefix_and_english_words() -> None:
    assert [t.code for t in services.search("A0101")][:1] == ["A0101"]
    assert {t.code for t in services.search("a0101")} >= {"A0101", "A010101"}
    leaks = [t.code for t in services.search("leak", annex="A")]
    assert leaks[0] == "A0504" or "A0504" in leaks
    assert "A050402" in [t.code for t in services.search("gas leak")]
    assert all(t.annex == "A" for t in services.search("leak", annex="a"))
    assert services.search("") == [] and services.search("   ") == []


def test_search_in_chinese_and_by_language() -> None:
    translate("A0504", "泄漏/溅出")
    translate("A050401", "液体/血液泄漏")
    found = [t.code for t in services.search("泄漏")]
    assert found[0] == "A0504" or set(found) == {"A0504", "A050401"}
    assert set(found) == {"A0504", "A050401"}
    assert [t.code for t in services.search("泄漏", lang="en")] == []
    assert [t.code for t in services.search("leak", lang="zh")] == []
    assert "A0504" in [t.code for t in services.search("Leak", lang="en")]


def test_search_hides_retired_codes_unless_asked() -> None:
    assert "G04081" not in [t.code for t in services.search("G0408")]
    assert "G04081" in [t.code for t in services.search("G0408", include_retired=True)]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"text": "a\x00b"}, "NUL"),
        ({"text": "x" * 5000}, "longer than 200"),
        ({"text": ["leak"]}, "must be text"),
        ({"text": "leak", "annex": "Z"}, "annex from A to G"),
        ({"text": "leak", "lang": "fr"}, "English (en) or Chinese (zh)"),
    ],
)
def test_search_refuses_bad_input_with_a_clear_message(
    kwargs: dict[str, Any], message: str
) -> None:
    text = kwargs.pop("text")
    with pytest.raises(ValidationError) as exc:
        services.search(text, **kwargs)
    assert message in " ".join(exc.value.messages)


def test_validate_codes_normalises_and_keeps_order() -> None:
    assert services.validate_codes("A", "a0504, A050401 a0504") == ["A0504", "A050401"]
    assert services.validate_codes("BCD", ["B01", "C0101", "D01"]) == ["B01", "C0101", "D01"]
    assert services.validate_codes(None, []) == []
    assert services.validate_codes("E", "E0102；E0103") == ["E0102", "E0103"]


def test_validate_codes_names_every_bad_code() -> None:
    with pytest.raises(ValidationError) as exc:
        services.validate_codes("A", ["A0504", "E0102", "A9999", "nonsense", "G04081"])
    text = "\n".join(exc.value.messages)
    assert "E0102 is a code of Annex E; this field takes Annex A." in text
    assert "A9999 is not a code of the IMDRF terminology." in text
    assert "“nonsense” is not an IMDRF code" in text
    assert "G04081 is a code of Annex G" in text
    assert len(exc.value.messages) == 4  # one message per bad code


def test_validate_codes_retired_and_grouping_terms() -> None:
    with pytest.raises(ValidationError) as exc:
        services.validate_codes("G", ["G04081", "G01"])
    text = "\n".join(exc.value.messages)
    assert "G04081 was retired in IMDRF release 2022; choose a current code." in text
    assert "G01 is a grouping term; choose a more detailed term below it." in text
    # a record that had the retired code keeps it
    assert services.validate_codes("G", ["G04081"], existing=["G04081"]) == ["G04081"]
    assert services.validate_codes("G", ["G01"], allow_groups=True) == ["G01"]


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        ("A01\x00", "NUL"),
        (["A01\x00"], "NUL"),
        (["A01"] * 101, "Too many codes"),
        ("A01," * 5000, "Too many codes"),
        ({"A01": 1}, "as a list or as text"),
        ([12345], "is not an IMDRF code"),
        (["x" * 1_000_000], "is not an IMDRF code"),
    ],
)
def test_validate_codes_bad_input(codes: Any, message: str) -> None:
    with pytest.raises(ValidationError) as exc:
        services.validate_codes("A", codes)
    joined = " ".join(exc.value.messages)
    assert message in joined and len(joined) < 2000


def test_validate_codes_bad_annex() -> None:
    with pytest.raises(ValidationError):
        services.validate_codes("Q", ["A01"])


def test_terms_for_reads_many_codes_in_one_query(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        found = services.terms_for(["A0504", "e0102", "bogus", "G04081"])
    assert set(found) == {"A0504", "E0102", "G04081"}
    assert found["G04081"].retired_in.label == "2022"


def test_a_translation_is_audited_and_checked(quality_user: Any) -> None:
    from medvigil.core.models import AuditEntry

    term = Term.objects.get(pk="A05")
    before = AuditEntry.objects.count()
    services.update_translation(term, by=quality_user, version=term.version, term_zh="机械问题")
    assert AuditEntry.objects.count() == before + 1
    term.refresh_from_db()
    assert term.term_zh == "机械问题"
    with pytest.raises(ValidationError):
        services.update_translation(term, by=quality_user, version=term.version, term_zh="a\x00")
    with pytest.raises(ValidationError):
        services.update_translation(term, by=quality_user, version=term.version, term_zh="x" * 301)


def test_a_translation_needs_the_permission(cs_user: Any) -> None:
    from django.core.exceptions import PermissionDenied

    term = Term.objects.get(pk="A05")
    with pytest.raises(PermissionDenied):
        services.update_translation(term, by=cs_user, version=term.version, term_zh="x")


def test_translations_from_a_file() -> None:
    data = "code,term_zh,definition_zh\nA06,光学问题,\nA07,电气问题,与电气相关的问题\n".encode()
    assert services.load_translations([("zh.csv", data)], by=None) == 2
    assert Term.objects.get(pk="A07").definition_zh == "与电气相关的问题"
    with pytest.raises(ValidationError) as exc:
        services.load_translations([("zh.csv", b"code,term_zh\nA9999,x\n")], by=None)
    assert "A9999 is not a code" in exc.value.messages[0]


def test_demo_translations_fill_only_empty_terms() -> None:
    from medvigil.imdrf.demo import load_demo

    translate("A01", "我的译文")
    load_demo()
    assert Term.objects.get(pk="A01").term_zh == "我的译文"
    assert Term.objects.get(pk="F02").term_zh == "死亡"
