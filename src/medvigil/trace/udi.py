"""Scanning and pasting GS1 UDIs (TRC-3).

Accepted input, anywhere a unit is asked for:

* a GS1 element string as a scanner sends it (DataMatrix / GS1-128), with or without the
  symbology identifier (``]d2``, ``]C1``, ``]e0``, ``]Q3``), variable-length fields ended by the
  group separator (ASCII 29), by the literal ``<GS>`` some keyboard-wedge scanners type, or by
  ``|``;
* the human-readable interpretation ``(01)…(17)…(10)…(21)…``;
* a plain serial number (出厂编号).

Parsing is biip's (`biip.parse`, or `GS1Message.parse_hri` for the bracketed form): check
digits and dates are validated there; anything invalid becomes a `UdiError` with a message a
user can act on.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import biip
from biip.gs1_messages import GS1Message
from django.utils.translation import gettext as _

from .models import Lot, Unit

GS = "\x1d"
# Stand-ins for the group separator that scanners and copy-paste produce.
_GS_ALIASES = ("<GS>", "<gs>", "[GS]", "{GS}", "\\x1d", "\\X1D", "␝", "^]")
_SEPARATORS = (GS, "|")
_CONFIG = biip.ParseConfig(separator_chars=_SEPARATORS)
_AI_START = re.compile(r"^(?:\][A-Za-z]\d|\(\d{2,4}\)|0[01]\d{14}|\d{2}.*" + GS + ")")


class UdiError(ValueError):
    """The text is not a valid UDI, or no unit matches it. `message` is for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


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


def _first_error(*errors: str | None) -> str:
    return next((e for e in errors if e), "")


def parse_udi(text: str) -> UdiResult:
    """Parse a scanned or pasted GS1 UDI; raise UdiError with a readable message."""
    value = normalize(text)
    if not value:
        raise UdiError(_("Scan or paste a UDI, or type a serial number."))
    if len(value) > 200:
        raise UdiError(_("This is too long to be a UDI."))
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
            detail = _first_error(result.gs1_message_error, result.gtin_error)
    except biip.ParseError as exc:  # raised by parse_hri and by a bad symbology identifier
        raise UdiError(_("Not a valid UDI: %(detail)s") % {"detail": exc}) from None
    if message is None:
        raise UdiError(_("Not a valid UDI: %(detail)s") % {"detail": detail or value})
    gtin_element = message.element_strings.get(ai="01")
    if gtin_element is None:
        raise UdiError(
            _("The code has no GTIN (01), so it is not a device UDI: %(hri)s")
            % {"hri": message.as_hri()}
        )
    if gtin_element.gtin is None:
        raise UdiError(
            _("The GTIN in this UDI is not valid: %(detail)s")
            % {"detail": gtin_element.gtin_error or gtin_element.value}
        )

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
    trace.services.resolve_units'."""
    from .services import resolve_unit

    return resolve_unit(text, user=user)


def find_lot(text: str, user: Any) -> Lot:
    """The lot a scanned UDI with (01) and (10) designates (for lot-tracked products)."""
    from django.core.exceptions import ValidationError

    from .services import resolve_lot

    try:
        return resolve_lot(text, user=user)
    except ValidationError as exc:
        raise UdiError(" ".join(exc.messages)) from None
