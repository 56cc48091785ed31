"""Scanning and pasting GS1 UDIs (TRC-3).

Accepted input, anywhere a unit is asked for:

* a GS1 element string as a scanner sends it (DataMatrix / GS1-128), with or without the
  symbology identifier (``]d2``, ``]C1``, ``]e0``, ``]Q3``), variable-length fields ended by the
  group separator (ASCII 29), by the literal ``<GS>`` some keyboard-wedge scanners type, or by
  ``|``;
* the human-readable interpretation ``(01)…(17)…(10)…(21)…``;
* a plain serial number (出厂编号).

Parsing is biip's (`biip.parse`, or `GS1Message.parse_hri` for the bracketed form): check
digits and dates are validated there. biip's own (English) error texts never reach a user:
`explain_biip_error` maps each kind of biip error to one of our translatable messages with
its parameters, and anything invalid becomes a `UdiError`.

A `UdiError` carries the untranslated message and its parameters (`message`, `params`), so
whoever keeps it (an import's error report) can render it later in the reader's language;
`str(error)` renders it in the active language.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import biip
from biip.gs1_messages import GS1Message
from django.core.exceptions import ValidationError
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from medvigil.core.permissions import can

from .models import Lot, Product, Unit

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise, _StrPromise

GS = "\x1d"
# Stand-ins for the group separator that scanners and copy-paste produce.
_GS_ALIASES = ("<GS>", "<gs>", "[GS]", "{GS}", "\\x1d", "\\X1D", "␝", "^]")
_SEPARATORS = (GS, "|")
_CONFIG = biip.ParseConfig(separator_chars=_SEPARATORS)
_AI_START = re.compile(r"^(?:\][A-Za-z]\d|\(\d{2,4}\)|0[01]\d{14}|\d{2}.*" + GS + ")")
# GS1 application identifiers that hold a date (YYMMDD).
_DATE_AIS = {"11", "12", "13", "15", "16", "17"}


def lazy_message(message: _StrOrPromise, params: dict[str, Any] | None = None) -> _StrPromise:
    """`message % params` as lazy text: rendered in the language active whenever it is read,
    so a store that keeps lazy text for readers of other languages (an import's error
    report) can show it in theirs. (`gettext_lazy(...) % params` would render at once.)"""

    def text() -> str:
        return str(message) % params if params else str(message)

    return lazy(text, str)()  # type: ignore[return-value]  # a str proxy, as stubs type it


class UdiError(ValueError):
    """The text is not a valid UDI, or no unit matches it.

    `msgid` is the untranslated (lazy) message and `params` its parameters, kept for
    rendering later in a reader's language: `str(error)` renders them in the language active
    now, `lazy_text` whenever it is read. `message` is the text for the user in the language
    active when the error was raised (a plain str, as callers always had it)."""

    def __init__(
        self, msgid: _StrOrPromise, params: dict[str, Any] | None = None, code: str = "invalid"
    ) -> None:
        self.msgid = msgid
        self.params: dict[str, Any] = dict(params or {})
        self.code = code
        self.message: str = str(self)
        super().__init__(self.message)

    def __str__(self) -> str:
        text = str(self.msgid)
        return text % self.params if self.params else text

    @property
    def lazy_text(self) -> _StrPromise:
        """The message as lazy text (see lazy_message), e.g. for an import's error rows."""
        return lazy_message(self.msgid, self.params)

    def validation_error(self) -> ValidationError:
        """The same message as a Django ValidationError (rendered lazily by forms)."""
        return ValidationError(self.msgid, code=self.code, params=self.params or None)


# biip 5.2's error texts, mapped to our messages. A test feeds each kind of bad input and
# checks that none falls through to the generic message, so that a biip upgrade that
# rewords an error is noticed.
_BIIP_ERRORS: list[tuple[re.Pattern[str], str]] = [
    (
        re.compile(r"^Invalid GTIN check digit for '(?P<gtin>\d*)': Expected (?P<expected>\d)"),
        "check",
    ),
    (
        re.compile(
            r"^Failed to parse '(?P<gtin>.*)' as GTIN: "
            r"Expected 8, 12, 13, or 14 digits, got (?P<count>\d+)"
        ),
        "gtin_length",
    ),
    (
        re.compile(r"^Failed to parse '(?P<gtin>.*)' as GTIN: Expected a numerical value"),
        "gtin_digits",
    ),
    (re.compile(r"^Failed to match '(?P<data>.*)' with GS1 AI \((?P<ai>\d+)\) pattern"), "pattern"),
    (re.compile(r"^Failed to parse GS1 AI \((?P<ai>\d+)\) date/time from '(?P<value>.*)'"), "date"),
    (re.compile(r"^Unknown GS1 Application Identifier '(?P<ai>\d*)'"), "unknown_ai"),
    (re.compile(r"^Failed to get GS1 Application Identifier from '(?P<value>.*)'\.$"), "no_ai"),
    (re.compile(r"^Failed to get Symbology Identifier from '(?P<value>.*?)'\."), "symbology"),
    (re.compile(r"^Could not find any GS1 Application Identifiers in"), "no_ais"),
]


def _short(value: str, limit: int = 40) -> str:
    value = value.replace(GS, "<GS>")
    return value if len(value) <= limit else value[: limit - 1] + "…"


def explain_biip_error(detail: str, value: str) -> UdiError:
    """Our translatable message for one of biip's error texts about `value`."""
    for pattern, kind in _BIIP_ERRORS:
        m = pattern.search(detail)
        if m is None:
            continue
        g = m.groupdict()
        if kind == "check":
            return UdiError(
                _(
                    "Not a valid UDI: the check digit of GTIN %(gtin)s is wrong "
                    "(it should be %(expected)s)."
                ),
                {"gtin": g["gtin"], "expected": g["expected"]},
                code="gtin_check_digit",
            )
        if kind == "gtin_length":
            return UdiError(
                _(
                    "Not a valid UDI: GTIN %(gtin)s has %(count)s digits; "
                    "a GTIN has 14 (or 8, 12, 13)."
                ),
                {"gtin": _short(g["gtin"]), "count": g["count"]},
                code="gtin_length",
            )
        if kind == "gtin_digits":
            return UdiError(
                _("Not a valid UDI: GTIN %(gtin)s must consist of digits only."),
                {"gtin": _short(g["gtin"])},
                code="gtin_digits",
            )
        if kind in ("pattern", "date"):
            ai = g["ai"]
            data = g.get("value") or g["data"][len(ai) :]
            if ai in _DATE_AIS:
                return UdiError(
                    _("Not a valid UDI: date %(value)s in (%(ai)s) is not a valid date (YYMMDD)."),
                    {"value": _short(data), "ai": ai},
                    code="date",
                )
            if ai == "01":
                return UdiError(
                    _("Not a valid UDI: the GTIN (01) must be 14 digits, not “%(value)s”."),
                    {"value": _short(data)},
                    code="gtin_length",
                )
            if not data:
                return UdiError(
                    _("Not a valid UDI: application identifier (%(ai)s) has no value."),
                    {"ai": ai},
                    code="ai_value",
                )
            return UdiError(
                _(
                    "Not a valid UDI: “%(value)s” is not a valid value for "
                    "application identifier (%(ai)s)."
                ),
                {"value": _short(data), "ai": ai},
                code="ai_value",
            )
        if kind == "unknown_ai":
            return UdiError(
                _("Not a valid UDI: unknown application identifier (%(ai)s)."),
                {"ai": g["ai"]},
                code="unknown_ai",
            )
        if kind == "no_ai":
            return UdiError(
                _("Not a valid UDI: no known application identifier at “%(value)s”."),
                {"value": _short(g["value"])},
                code="unknown_ai",
            )
        if kind == "symbology":
            return UdiError(
                _("Not a valid UDI: unknown symbology identifier “%(value)s”."),
                {"value": _short(g["value"], 3)},
                code="symbology",
            )
        if kind == "no_ais":
            return UdiError(
                _("Not a valid UDI: no application identifiers found; expected (AI)data(AI)data."),
                code="no_ai",
            )
    return UdiError(_("Not a valid UDI: %(value)s"), {"value": _short(value)}, code="invalid")


@dataclass(frozen=True)
class UdiResult:
    raw: str
    gtin: str  # UDI-DI, 14 digits
    serial: str = ""  # (21)
    lot: str = ""  # (10)
    expiry: dt.date | None = None  # (17)
    production_date: dt.date | None = None  # (11)
    symbology: str = ""

    @property
    def hri(self) -> str:
        parts = [f"(01){self.gtin}"]
        if self.production_date:
            parts.append(f"(11){self.production_date:%y%m%d}")
        if self.expiry:
            parts.append(f"(17){self.expiry:%y%m%d}")
        if self.lot:
            parts.append(f"(10){self.lot}")
        if self.serial:
            parts.append(f"(21){self.serial}")
        return "".join(parts)

    @property
    def udi_pi(self) -> str:
        return self.hri[len(f"(01){self.gtin}") :]


def normalize(text: str) -> str:
    value = (text or "").strip().replace("\r", "").replace("\n", "")
    for alias in _GS_ALIASES:
        value = value.replace(alias, GS)
    return value


def looks_like_udi(text: str) -> bool:
    """True if the text has the shape of a GS1 string rather than a plain serial."""
    return bool(_AI_START.match(normalize(text)))


def parse_udi(text: str) -> UdiResult:
    """Parse a scanned or pasted GS1 UDI; raise UdiError with a readable message."""
    value = normalize(text)
    if not value:
        raise UdiError(_("Scan or paste a UDI, or type a serial number."), code="required")
    if len(value) > 200:
        raise UdiError(_("This is too long to be a UDI."), code="too_long")
    symbology = ""
    message: GS1Message | None
    try:
        if value.startswith("("):
            message = GS1Message.parse_hri(value, config=_CONFIG)
            detail = ""
        else:
            result = biip.parse(value, config=_CONFIG)
            message = result.gs1_message
            symbology = str(result.symbology_identifier or "")
            detail = next((e for e in (result.gs1_message_error, result.gtin_error) if e), "")
    except biip.ParseError as exc:  # raised by parse_hri and by a bad symbology identifier
        raise explain_biip_error(str(exc), value) from None
    if message is None:
        raise explain_biip_error(detail, value)
    if not list(message.element_strings):
        raise explain_biip_error("", value)
    gtin_element = message.element_strings.get(ai="01")
    if gtin_element is None:
        raise UdiError(
            _("The code has no GTIN (01), so it is not a device UDI: %(hri)s"),
            {"hri": message.as_hri()},
            code="no_gtin",
        )
    if gtin_element.gtin is None:
        raise explain_biip_error(gtin_element.gtin_error or "", gtin_element.value)

    def get(ai: str) -> Any:
        return message.element_strings.get(ai=ai)

    serial = get("21")
    lot = get("10")
    expiry = get("17")
    produced = get("11")
    return UdiResult(
        raw=text,
        gtin=gtin_element.gtin.as_gtin_14(),
        serial=serial.value if serial else "",
        lot=lot.value if lot else "",
        expiry=expiry.date if expiry else None,
        production_date=produced.date if produced else None,
        symbology=symbology,
    )


def find_unit(text: str, user: Any) -> Unit:
    """The unit a scan or a typed serial designates, among the units `user` may see.
    Raises UdiError with the reason when there is none (or more than one). The rules are
    trace.services.resolve_units' (one place for the form, the API and the import)."""
    from .services import resolve_unit

    return resolve_unit(text, user=user)


def find_lot(text: str, user: Any) -> Lot:
    """The lot a scanned UDI with (01) and (10) designates (for lot-tracked products), among
    the lots `user` may see; trace.services.resolve_lots' rules."""
    from .services import resolve_lots

    [found] = resolve_lots([text], user=user)
    if isinstance(found, UdiError):
        raise found
    return found


def find_unit_or_lot(text: str, user: Any) -> Unit | Lot:
    """What a scan in a search box designates: the unit, or — for a lot-tracked label
    (01)…(17)…(10)… without a serial (21) — the lot. UdiError with the reason otherwise."""
    if looks_like_udi(text):
        udi = parse_udi(text)
        if not udi.serial and udi.lot and (user is None or can(user, Lot, "view")):
            return find_lot(text, user)
    return find_unit(text, user)


def label_problems(
    udi: UdiResult,
    *,
    product: Product,
    lot: Lot | None = None,
    serial: str | None = None,
    production_date: dt.date | None = None,
    expiry_date: dt.date | None = None,
) -> list[UdiError]:
    """What on a scanned label contradicts the unit about to be recorded (product, lot number,
    serial, dates given); empty when it agrees. Shared by "Add units" and the unit import."""
    problems: list[UdiError] = []
    if product.gtin and udi.gtin != product.gtin:
        problems.append(
            UdiError(
                _("The UDI-DI %(gtin)s is not the product's (%(product)s)."),
                {"gtin": udi.gtin, "product": product.code},
                code="product_mismatch",
            )
        )
    if lot is not None and udi.lot and udi.lot != lot.lot_number:
        problems.append(
            UdiError(
                _("The label says lot %(label)s, not lot %(lot)s."),
                {"label": udi.lot, "lot": lot.lot_number},
                code="lot_mismatch",
            )
        )
    if serial is not None and udi.serial and udi.serial != serial:
        problems.append(
            UdiError(
                _("The UDI has serial %(udi)s but the row says %(serial)s."),
                {"udi": udi.serial, "serial": serial},
                code="serial_mismatch",
            )
        )
    for ai, mine, theirs in (
        ("17", expiry_date, udi.expiry),
        ("11", production_date, udi.production_date),
    ):
        if mine and theirs and mine != theirs:
            problems.append(
                UdiError(
                    _("The UDI date (%(ai)s) %(udi)s differs from the recorded %(row)s."),
                    {"ai": ai, "udi": theirs.isoformat(), "row": mine.isoformat()},
                    code="date_mismatch",
                )
            )
    return problems
