"""VIG-5 pages, picker and API: browse an annex, search with htmx in both languages, a term's
page (a retired one too), the picker field other apps use, the release upload, the API; who
may do what; bad input answered with a message, never a 500."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from medvigil.imdrf import services
from medvigil.imdrf.forms import ImdrfCodesField
from medvigil.imdrf.models import Release, Term

pytestmark = [pytest.mark.django_db, pytest.mark.req("VIG-5")]

Files = Callable[..., list[tuple[str, bytes]]]


@pytest.fixture
def qe(client_for: Any, quality_user: Any) -> Any:
    return client_for(quality_user)


def translate(code: str, zh: str) -> None:
    term = Term.objects.get(pk=code)
    services.update_translation(term, by=None, version=term.version, term_zh=zh)


def test_the_terms_page_shows_an_annex_as_a_tree(qe: Any) -> None:
    translate("A05", "机械问题")
    html = qe.get(reverse("imdrf:term_list")).content.decode()
    assert "A0101" in html and "Patient-Device Incompatibility" in html
    assert "机械问题" in html  # bilingual: the other language beside the term
    html = qe.get(reverse("imdrf:term_list") + "?annex=E").content.decode()
    assert "E0102" in html and "also listed here" in html
    html = qe.get(reverse("imdrf:term_list") + "?annex=G").content.decode()
    assert "G04081" not in html
    html = qe.get(reverse("imdrf:term_list") + "?annex=G&retired=1").content.decode()
    assert "G04081" in html and "retired in 2022" in html


def test_the_page_in_chinese_shows_the_chinese_term_first(client_for: Any, make_user: Any) -> None:
    translate("A05", "机械问题")
    user = make_user("qe-zh", "quality", language="zh-hans")
    html = client_for(user).get(reverse("imdrf:term_detail", args=["A05"])).content.decode()
    assert "<h1" in html and "机械问题</h1>" in html and "Mechanical Problem" in html


def test_search_with_htmx_returns_the_results_alone(qe: Any) -> None:
    translate("A0504", "泄漏/溅出")
    url = reverse("imdrf:term_list")
    resp = qe.get(url, {"q": "泄漏"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="imdrf-results")
    html = resp.content.decode()
    assert resp.status_code == 200 and "A0504" in html and "<html" not in html
    resp = qe.get(url, {"q": "leak", "annex": "A"})
    assert resp.status_code == 200 and "A050402" in resp.content.decode()


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"q": "x" * 300}, "longer than 200 characters"),
        ({"q": "leak", "annex": "Q"}, "annex from A to G"),
        ({"q": "leak", "lang": "xx"}, "English (en) or Chinese (zh)"),
    ],
)
def test_bad_search_input_gets_a_message(qe: Any, params: dict[str, str], message: str) -> None:
    resp = qe.get(reverse("imdrf:term_list"), params)
    assert resp.status_code == 400 and message in resp.content.decode()
    if "lang" not in params:  # the picker searches both languages
        resp = qe.get(reverse("imdrf:picker"), params)
        assert resp.status_code == 200 and message in resp.content.decode()


def test_a_nul_in_the_address_is_refused(qe: Any) -> None:
    assert qe.get(reverse("imdrf:term_list") + "?q=a%00b").status_code == 400


def test_a_term_page_with_path_children_and_history(qe: Any) -> None:
    html = qe.get(reverse("imdrf:term_detail", args=["A0101"])).content.decode()
    assert "A010101" in html and "Patient Device Interaction Problem" in html
    assert "Edit Chinese text" in html
    assert qe.get(reverse("imdrf:term_detail", args=["a0101"])).status_code == 200
    assert qe.get(reverse("imdrf:term_detail", args=["A9999"])).status_code == 404
    assert qe.get(reverse("imdrf:term_detail", args=["x" * 5000])).status_code == 404


def test_a_retired_term_page_says_so(qe: Any) -> None:
    html = qe.get(reverse("imdrf:term_detail", args=["G04081"])).content.decode()
    assert "This code was retired in IMDRF release 2022" in html


def test_the_chinese_text_form(qe: Any, client_for: Any, cs_user: Any) -> None:
    term = Term.objects.get(pk="A06")
    url = reverse("imdrf:term_edit", args=["A06"])
    resp = qe.post(url, {"term_zh": "光学问题", "definition_zh": "", "version": term.version})
    assert resp.status_code == 302
    assert Term.objects.get(pk="A06").term_zh == "光学问题"
    assert client_for(cs_user).get(url).status_code == 403
    resp = qe.post(url, {"term_zh": "x", "version": term.version})  # stale now
    assert "changed by someone else" in resp.content.decode()


class EventForm(forms.Form):
    device_problem = ImdrfCodesField(annex="A", label="Device problem")
    component = ImdrfCodesField(annex="G", multiple=False, required=False)


def test_the_picker_field_cleans_to_checked_codes() -> None:
    form = EventForm({"device_problem": "a0504, A050401", "component": "G01001"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data == {"device_problem": ["A0504", "A050401"], "component": "G01001"}
    form = EventForm({"device_problem": "E0102, A9999", "component": "G01001 G01002"})
    assert not form.is_valid()
    errors = form.errors["device_problem"]
    assert "E0102 is a code of Annex E; this field takes Annex A." in errors
    assert "A9999 is not a code of the IMDRF terminology." in errors
    assert form.errors["component"] == ["Choose one code."]
    assert not EventForm({"device_problem": ""}).is_valid()
    assert not EventForm({"device_problem": "A01\x00"}).is_valid()


def test_the_picker_field_keeps_a_retired_code_of_the_record() -> None:
    form = EventForm({"device_problem": "A0504", "component": "G04081"})
    assert not form.is_valid() and "retired" in form.errors["component"][0]
    form = EventForm({"device_problem": "A0504", "component": "G04081"})
    form.fields["component"].existing = ["G04081"]  # type: ignore[attr-defined]
    assert form.is_valid(), form.errors


def test_the_picker_widget_renders_search_and_chosen_terms() -> None:
    translate("A0504", "泄漏/溅出")
    html = str(EventForm(initial={"device_problem": ["A0504"]})["device_problem"])
    assert 'name="device_problem"' in html and 'value="A0504"' in html
    assert reverse("imdrf:picker") + "?annex=A&amp;target=id_device_problem" in html
    assert "Leak/Splash" in html and "泄漏/溅出" in html
    assert 'form="imdrf-picker-detached"' in html  # the search box is not posted


def test_the_picker_endpoint_lists_buttons_that_fill_the_field(qe: Any) -> None:
    translate("A0504", "泄漏/溅出")
    url = reverse("imdrf:picker")
    html = qe.get(url, {"q": "泄漏", "annex": "A", "target": "id_device_problem"}).content.decode()
    assert 'data-pick-into="id_device_problem"' in html and 'data-pick-value="A0504"' in html
    html = qe.get(url, {"q": "A050", "annex": "A", "target": 'x" onclick=1'}).content.decode()
    assert "data-pick-into" not in html and "A0501" in html  # a bad target id is dropped
    html = qe.get(url, {"q": "G01", "annex": "G"}).content.decode()
    assert "disabled" in html  # a grouping term cannot be picked
    assert qe.get(url, {"q": "leak", "annex": "E"}).status_code == 200


def test_pages_refuse_outsiders_and_send_anonymous_to_login(
    client: Any, client_for: Any, outsider: Any
) -> None:
    c = client_for(outsider)
    for url in (
        reverse("imdrf:term_list"),
        reverse("imdrf:picker") + "?q=leak",
        reverse("imdrf:term_detail", args=["A01"]),
        reverse("imdrf:release_list"),
    ):
        assert c.get(url).status_code == 403
        assert client.get(url).status_code == 302


def test_the_release_page_lists_and_loads(
    client_for: Any, admin: Any, release_files: Files, cs_user: Any
) -> None:
    c = client_for(admin)
    url = reverse("imdrf:release_list")
    html = c.get(url).content.decode()
    assert "2022" in html and "Load a newer release" in html
    files = [
        SimpleUploadedFile(name, data, content_type="application/json")
        for name, data in release_files(drop=("A050407",), annexes="A")
    ]
    resp = c.post(url, {"label": "2099", "release_files": files, "dry_run": "on"})
    assert resp.status_code == 200 and "would add 0 codes" in resp.content.decode()
    assert not Release.objects.filter(label="2099").exists()
    files = [SimpleUploadedFile(n, d) for n, d in release_files(drop=("A050407",), annexes="A")]
    resp = c.post(url, {"label": "2099", "release_files": files})
    release = Release.objects.get(label="2099")
    assert resp.status_code == 302 and resp["Location"] == release.get_absolute_url()
    html = c.get(release.get_absolute_url()).content.decode()
    assert "A050407" in html and "Powder Leak" in html
    # customer service reads the releases, may not load one
    cs = client_for(cs_user)
    assert cs.get(url).status_code == 200
    assert "Load a newer release" not in cs.get(url).content.decode()
    assert cs.post(url, {"label": "2100"}).status_code == 403


def test_a_bad_upload_shows_every_problem(client_for: Any, admin: Any) -> None:
    c = client_for(admin)
    bad = json.dumps(
        [{"code": "Q1", "term": "x"}, {"code": "A0101", "term": "y", "CodeHierarchy": "A77|A0101"}]
    ).encode()
    resp = c.post(
        reverse("imdrf:release_list"),
        {"label": "2099", "release_files": [SimpleUploadedFile("annexa.json", bad)]},
    )
    html = resp.content.decode()
    assert resp.status_code == 400
    assert "is not an IMDRF code" in html and "The parent A77 of A0101" in html
    nul = json.dumps([{"code": "A01", "term": "a\x00"}]).encode()
    resp = c.post(
        reverse("imdrf:release_list"),
        {"label": "2099", "release_files": [SimpleUploadedFile("annexa.json", nul)]},
    )
    assert resp.status_code == 400 and "contains a NUL character" in resp.content.decode()
    resp = c.post(reverse("imdrf:release_list"), {"label": "", "release_files": []})
    assert resp.status_code == 400
    assert Release.objects.count() == 1


# --- the API ----------------------------------------------------------------------------------


def test_api_search_and_list(qe: Any) -> None:
    translate("A0504", "泄漏/溅出")
    data = qe.get("/api/v1/imdrf/terms", {"q": "泄漏"}).json()
    assert data["count"] >= 1 and data["items"][0]["code"] == "A0504"
    assert data["items"][0]["term_zh"] == "泄漏/溅出"
    data = qe.get("/api/v1/imdrf/terms", {"annex": "B", "limit": 100}).json()
    assert data["count"] == 24 and {i["annex"] for i in data["items"]} == {"B"}
    data = qe.get("/api/v1/imdrf/terms", {"q": "A0101"}).json()
    assert data["items"][0]["code"] == "A0101"


def test_api_term_with_path_children_and_a_retired_one(qe: Any) -> None:
    data = qe.get("/api/v1/imdrf/terms/a0101").json()
    assert data["code"] == "A0101" and data["parent"] == "A01" and data["added_in"] == "2022"
    assert [p["code"] for p in data["path"]] == ["A01", "A0101"]
    assert [c["code"] for c in data["children"]] == ["A010101", "A010102", "A010103"]
    data = qe.get("/api/v1/imdrf/terms/E0102").json()
    assert [p["code"] for p in data["also_under"]] == ["E20"]
    data = qe.get("/api/v1/imdrf/terms/G04081").json()
    assert data["retired"] is True and data["retired_in"] == "2022"
    assert qe.get("/api/v1/imdrf/terms/A9999").status_code == 404
    assert qe.get("/api/v1/imdrf/terms/" + "A" * 3000).status_code == 404


def test_api_translation_is_versioned(qe: Any, client_for: Any, cs_user: Any) -> None:
    term = Term.objects.get(pk="A06")
    url = "/api/v1/imdrf/terms/A06"
    body = {"term_zh": "光学问题", "version": term.version}
    resp = qe.patch(url, json.dumps(body), content_type="application/json")
    assert resp.status_code == 200 and resp.json()["term_zh"] == "光学问题"
    resp = qe.patch(url, json.dumps(body), content_type="application/json")
    assert resp.status_code == 409
    resp = client_for(cs_user).patch(url, json.dumps(body), content_type="application/json")
    assert resp.status_code == 403


@pytest.mark.parametrize(
    "params",
    [
        {"q": "x" * 300},
        {"annex": "Q"},
        {"annex": "AB"},
        {"q": "leak", "lang": "fr"},
        {"limit": 10**9},
    ],
)
def test_api_bad_input_is_a_422(qe: Any, params: dict[str, Any]) -> None:
    resp = qe.get("/api/v1/imdrf/terms", params)
    assert resp.status_code == 422, resp.content


def test_api_refuses_outsiders(client_for: Any, outsider: Any) -> None:
    c = client_for(outsider)
    assert c.get("/api/v1/imdrf/terms").status_code == 403
    assert c.get("/api/v1/imdrf/terms/A01").status_code == 403
    assert c.get("/api/v1/imdrf/releases").status_code == 403


def test_api_releases(qe: Any) -> None:
    [release] = qe.get("/api/v1/imdrf/releases").json()
    assert release["label"] == "2022" and release["terms"] == 1756 and release["shipped"]


def test_the_codes_tag_shows_stored_codes_with_their_terms(django_assert_num_queries: Any) -> None:
    from django.template import Context, Template

    translate("A0504", "泄漏/溅出")
    tpl = Template("{% load imdrf %}{% imdrf_codes codes %}")
    with django_assert_num_queries(1):
        html = tpl.render(Context({"codes": ["A0504", "G04081", "Z1"]}))
    assert "Leak/Splash" in html and "泄漏/溅出" in html
    assert "retired in 2022" in html and "unknown code" in html
    assert tpl.render(Context({"codes": ""})).strip() == "—"
