"""The request and response schemas of the traceability API (and the bounds of the
integers a client sends: the schema documents them; beyond them the answer is 422)."""

import datetime as dt
from typing import Any, Literal

from ninja import Field, Schema

from medvigil.core.api import (
    Id,
    Page,
)

# Bounds of the integers a client sends (the schema documents them; beyond: 422).
MAX_MONTHS = 1200
MAX_QUANTITY = 10_000_000


# --- schemas -------------------------------------------------------------------------------


class ProductOut(Schema):
    id: int
    code: str
    name: str
    name_en: str
    model_spec: str = Field(..., description="规格型号")
    manufacturer: str
    registration_number: str
    registration_expiry: dt.date | None
    risk_class: str
    gtin: str | None = Field(None, description="UDI-DI, 14 digits")
    tracking: str
    implantable: bool
    shelf_life_months: int | None
    service_life_years: int | None
    warranty_months: int
    maintenance_interval_months: int | None
    sale_to_individuals: bool
    active: bool
    version: int


class ProductIn(Schema):
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=200)
    name_en: str = ""
    model_spec: str = Field(..., max_length=200)
    manufacturer: str = Field(..., max_length=200)
    registration_number: str = ""
    registration_expiry: dt.date | None = None
    risk_class: Literal["I", "II", "III"]
    gtin: str | None = None
    tracking: Literal["serial", "lot"] = "serial"
    implantable: bool = False
    shelf_life_months: int | None = Field(None, ge=1, le=MAX_MONTHS)
    service_life_years: int | None = Field(None, ge=1, le=MAX_MONTHS // 12)
    warranty_months: int = Field(12, ge=0, le=MAX_MONTHS)
    maintenance_interval_months: int | None = Field(None, ge=1, le=MAX_MONTHS)
    sale_to_individuals: bool = False
    notes: str = ""


class CustomerOut(Schema):
    id: int
    code: str
    name: str
    kind: str
    credit_code: str
    province: str
    city: str
    address: str = Field(..., description="masked without trace.view_contact_data")
    contact_person: str
    phone: str
    email: str
    owner_id: int | None
    active: bool
    version: int


class CustomerIn(Schema):
    code: str = Field(..., max_length=40)
    name: str = Field(..., max_length=200)
    kind: Literal["hospital", "dealer", "other", "individual"]
    credit_code: str = ""
    province: str = ""
    city: str = ""
    address: str = ""
    contact_person: str = ""
    phone: str = ""
    email: str = ""
    owner_id: Id | None = None
    notes: str = ""


class LotOut(Schema):
    id: int
    lot_number: str
    product_id: int
    production_date: dt.date
    expiry_date: dt.date | None
    production_record: str


class HopOut(Schema):
    sale_id: int
    sale_number: str
    sale_date: dt.date
    seller: str
    seller_id: int | None
    buyer: str
    buyer_id: int
    quantity: int
    open: bool
    voided: bool


class InstallationOut(Schema):
    id: int
    customer_id: int
    customer: str
    department: str
    address: str
    contact_person: str
    contact_phone: str
    installed_on: dt.date
    accepted_on: dt.date | None
    warranty_end: dt.date | None
    current: bool


class UnitOut(Schema):
    id: int
    serial: str
    product_id: int
    product_code: str
    product_name: str
    model_spec: str
    manufacturer: str
    lot_id: int | None
    lot_number: str
    udi_di: str
    udi_pi: str
    production_date: dt.date | None
    expiry_date: dt.date | None
    production_record: str
    status: str
    holder_id: int | None
    holder: str


class TimelineOut(Schema):
    date: dt.date | None
    kind: str
    title: str
    url: str
    detail: str


class UnitDetailOut(UnitOut):
    sales: list[HopOut]
    installations: list[InstallationOut]
    returns: list[dict[str, Any]]
    timeline: list[TimelineOut]


class TraceUnitOut(Schema):
    unit: UnitOut
    consignee_id: int | None
    consignee: str
    end_user_id: int | None
    end_user: str
    location: str
    located: bool
    address: str
    contact_person: str
    contact_phone: str
    chain: list[HopOut]


class PartyOut(Schema):
    id: int
    name: str
    kind: str
    count: int
    address: str
    phone: str


class LotLineOut(HopOut):
    lot_id: int | None
    lot_number: str
    product_id: int


class ForwardOut(Schema):
    criteria: dict[str, Any]
    unit_count: int
    located: int
    truncated: bool
    consignees: list[PartyOut]
    end_users: list[PartyOut]
    units: list[TraceUnitOut]
    lot_lines: list[LotLineOut]


class SaleLineIn(Schema):
    lot_id: Id | None = None
    lot_number: str | None = None
    product_code: str | None = None
    quantity: int = Field(1, ge=1, le=MAX_QUANTITY)


class SaleIn(Schema):
    seller_code: str | None = Field(None, description="A dealer's code; empty: sold by us.")
    buyer_code: str
    sale_date: dt.date
    units: list[str] = Field(default_factory=list, description="UDIs or serial numbers.")
    lots: list[SaleLineIn] = Field(default_factory=list, description="Lot-tracked goods.")
    handler_name: str = ""
    reference: str = ""
    notes: str = ""


class SaleLineOut(Schema):
    id: int
    product_id: int
    product_name: str
    manufacturer: str
    model_spec: str
    production_date: dt.date | None
    unit_id: int | None
    serial: str
    lot_id: int | None
    lot_number: str
    quantity: int
    open: bool


class SaleOut(Schema):
    id: int
    number: str
    sale_date: dt.date
    seller_id: int | None
    seller: str
    buyer_id: int
    buyer: str
    handler: str
    reference: str
    status: str
    lines: list[SaleLineOut]


# --- forward trace -------------------------------------------------------------------------


class ForwardQuery(Schema):
    lot: list[str] = Field(default_factory=list, description="Lot numbers.")
    lot_id: list[Id] = Field(default_factory=list)
    serial: list[str] = Field(default_factory=list, description="Serial numbers or UDIs.")
    gtin: str = Field("", description="UDI-DI")
    product_id: Id | None = None
    produced_from: dt.date | None = None
    produced_to: dt.date | None = None
    format: Literal["json", "csv", "xlsx", "pdf"] = "json"


# --- products and customers ----------------------------------------------------------------


class ListQuery(Schema):
    q: str = ""


class CustomerQuery(Schema):
    q: str = ""
    kind: Literal["hospital", "dealer", "other", "individual"] | None = None


class CustomerPage(Page):
    items: list[CustomerOut]
