"""UDI scanning and parsing (TRC-3)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from hypothesis import given
from hypothesis import strategies as st

from medvigil.trace.models import gtin_check_digit
from medvigil.trace.udi import GS, UdiError, find_lot, find_unit, looks_like_udi, parse_udi

from .conftest import lot, product, units

pytestmark = pytest.mark.req("TRC-3")

# A copy of shared/data/external/udi/biip_vectors.tsv (jodal/biip tests, Apache-2.0).
VECTORS = Path(__file__).parent / "data" / "biip_vectors.tsv"


def _vectors() -> list[str]:
    lines = VECTORS.read_text(encoding="utf-8").splitlines()[1:]
    # The TSV writes the group separator as the four characters "\x1d" (as in biip's tests).
    return [line.split("\t", 1)[1].replace("\\x1d", GS) for line in lines if "\t" in line]


def _carries_gtin(value: str) -> bool:
    body = value[3:] if value.startswith("]") else value
    return body.startswith("01")


GTIN_VECTORS = [v for v in _vectors() if _carries_gtin(v)]
# biip's own negative case among the vectors: a GTIN with a wrong check digit (its test
# expects the error). It must be refused, with the check digit named.
BAD_CHECK_DIGIT = {"0105901234123458"}


def test_vector_file_has_gtin_lines():
    assert len(GTIN_VECTORS) >= 14
    assert set(GTIN_VECTORS) >= BAD_CHECK_DIGIT


@pytest.mark.parametrize("value", [v for v in GTIN_VECTORS if v not in BAD_CHECK_DIGIT])
def test_every_gtin_vector_parses(value):
    result = parse_udi(value)
    body = value[3:] if value.startswith("]") else value
    assert result.gtin == body[2:16]


@pytest.mark.parametrize("value", sorted(BAD_CHECK_DIGIT))
def test_vector_with_bad_check_digit_refused(value):
    with pytest.raises(UdiError, match="check digit"):
        parse_udi(value)


def test_element_string_fields_and_separators():
    r = parse_udi("0107032069804988100329|2112345\x1d15210526")
    assert (r.gtin, r.lot, r.serial) == ("07032069804988", "0329", "12345")
    # the symbology identifier of a GS1 DataMatrix, and a "<GS>" typed by a keyboard scanner
    r = parse_udi("]d20106901234567892172712311010A42<GS>21SN-0001")
    assert r.gtin == "06901234567892"
    assert r.expiry == dt.date(2027, 12, 31)
    assert r.lot == "10A42"
    assert r.serial == "SN-0001"
    assert r.symbology.startswith("]d2")


def test_human_readable_form():
    r = parse_udi("(01)06901234567892(11)250601(17)270531(10)L001(21)SN1")
    assert r.gtin == "06901234567892"
    assert r.production_date == dt.date(2025, 6, 1)
    assert r.expiry == dt.date(2027, 5, 31)
    assert (r.lot, r.serial) == ("L001", "SN1")
    assert r.hri == "(01)06901234567892(11)250601(17)270531(10)L001(21)SN1"


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("0106901234567893", "check digit"),  # GTIN check digit wrong
        ("(01)06901234567893(21)X", "check digit"),
        ("010690123456789217271399", "17"),  # month 13
        ("(01)06901234567892(17)271332(21)X", "17"),  # day 32
        ("garbage!", "Not a valid UDI"),
        ("(01)12", "Not a valid UDI"),
        ("00157035381410375177", "no GTIN"),  # an SSCC, not a device identifier
        ("", "Scan or paste"),
    ],
)
def test_malformed_refused_with_message(value, fragment):
    with pytest.raises(UdiError) as info:
        parse_udi(value)
    assert fragment in info.value.message
    assert info.value.message  # something a user can read


def test_looks_like_udi():
    assert looks_like_udi("]d2010690123456789221X")
    assert looks_like_udi("(01)06901234567892(21)X")
    assert looks_like_udi("0106901234567892" + "21X")
    assert not looks_like_udi("SN-0001")
    assert not looks_like_udi("A1")


@pytest.fixture
def scanned(db):
    pump = product("P-7", gtin="06901234567892")
    the_lot = lot(pump, "L001")
    (unit,) = units(pump, the_lot, ["SN1"])
    other = product("P-8")
    units(other, lot(other, "L9"), ["DUP"])
    units(pump, the_lot, ["DUP"])
    return unit


def test_find_unit_all_forms(scanned, quality_user):
    forms = [
        "SN1",
        "]d20106901234567892" + "10L001" + GS + "21SN1",
        "0106901234567892" + "10L001<GS>21SN1",
        "(01)06901234567892(10)L001(21)SN1",
        "  (01)06901234567892(21)SN1\n",
    ]
    for text in forms:
        assert find_unit(text, quality_user).pk == scanned.pk, text


def test_find_unit_errors(scanned, quality_user):
    cases = {
        "NOPE": "No unit with serial number NOPE",
        "DUP": "several products",
        "(01)06901234567892(21)SN2": "No unit with serial number SN2",
        "(01)05901234123457(21)SN1": "No product with UDI-DI",
        "(01)06901234567892(10)L001": "no serial number (21)",
        "(01)06901234567892(10)L999(21)SN1": "recorded in lot L001",
    }
    for text, fragment in cases.items():
        with pytest.raises(UdiError) as info:
            find_unit(text, quality_user)
        assert fragment in info.value.message, (text, info.value.message)


def test_find_unit_needs_view_permission(scanned, outsider):
    with pytest.raises(PermissionDenied):
        find_unit("SN1", outsider)


def test_find_lot(scanned, quality_user):
    assert find_lot("(01)06901234567892(10)L001", quality_user).lot_number == "L001"
    with pytest.raises(UdiError):
        find_lot("(01)06901234567892(10)NOLOT", quality_user)


@given(st.text(alphabet="0123456789", min_size=13, max_size=13), st.integers(1, 9))
def test_gtin_check_digit_roundtrip_and_any_wrong_digit_refused(payload, delta):
    good = payload + str(gtin_check_digit(payload))
    assert parse_udi("01" + good).gtin == good
    bad = payload + str((gtin_check_digit(payload) + delta) % 10)
    with pytest.raises(UdiError, match="check digit"):
        parse_udi("01" + bad)
