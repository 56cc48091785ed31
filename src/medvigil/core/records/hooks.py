"""Every hook the platform reads on a regulated record, declared once with its default.

``AuditedModel`` inherits :class:`RecordHooks`, so every audited model has each hook with the
default below; a model overrides only what differs. The platform reads the hooks through the
model (``record.audit_repr()``, ``Model.visible_to(user, qs)``, ...) and, for the few
non-audited models that may carry one, through :func:`hook`, which falls back to the same
default. ``core/tests/test_record_contract.py`` walks every ``AuditedModel`` subclass and checks
that each override keeps the declared kind and signature.

Hooks that are not declared here (because a default would change behaviour elsewhere):

- ``get_absolute_url(self) -> str`` — the record's page, when it has one (Django's own hook:
  the admin's "view on site", attachment and destruction pages link to it).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, TypedDict

from django.db import models

__all__ = ["HOOKS", "RecordHooks", "RetentionDates", "hook"]


class RetentionDates(TypedDict, total=False):
    """What :meth:`RecordHooks.retention_dates` returns (every key optional)."""

    created: dt.date | dt.datetime | None  # the day the retention period starts from
    expiry: dt.date | dt.datetime | None  # product expiry (basis "expiry")
    lifetime_end: dt.date | dt.datetime | None  # end of the device lifetime (basis "lifetime")
    implantable: bool  # with "permanent_if_implantable": kept permanently


class RecordHooks:
    """The hooks of the regulated-record contract, with their defaults. Plain Python (no
    fields): the base of ``AuditedModel``."""

    #: Field names left out of the audit trail (noise such as ``last_login``).
    audit_exclude: ClassVar[tuple[str, ...]] = ()
    #: Field names whose values the trail stores only as a digest (secrets).
    audit_masked: ClassVar[tuple[str, ...]] = ()
    #: When True, an update or delete without a reason in the audit context is refused.
    audit_reason_required: ClassVar[bool] = False
    #: Field name -> permission needed to see its values in history, audit search, exports
    #: and the API (e.g. contact data, PLAT-11). Without it the value shows as a mask.
    audit_view_perms: ClassVar[Mapping[str, str]] = {}
    #: Field name -> the choices of the items of a list field (a multi-select kept as a JSON
    #: list of codes): a TextChoices class, (code, label) pairs or a function returning them
    #: (choices declared in another module, read only when shown). The history shows the
    #: items by their labels, as it shows a choice field's value.
    choice_lists: ClassVar[Mapping[str, Any]] = {}
    #: Field name -> a function turning the field's value as the trail keeps it (JSON: a dict
    #: of rules, a snapshot, a code without choices) into the text the history shows, in the
    #: reader's language. Called only when shown, never for a masked value; a value it
    #: cannot read falls back to the plain rendering.
    history_values: ClassVar[Mapping[str, Callable[[Any], str]]] = {}
    #: Field names left out of what an electronic signature binds to (default content).
    signature_exclude: ClassVar[tuple[str, ...]] = ()
    #: False: records of this type are never destroyed, not even by the retention process
    #: (the destruction requests and the retention rules themselves).
    retention_destroyable: ClassVar[bool] = True
    #: True: the record page shows the timeline every app adds to through its timeline
    #: providers (core.registry.timeline_for; the life of a unit, TRC-7).
    record_timeline: ClassVar[bool] = False
    #: Forward relations ``get_absolute_url`` reads, fetched with the records wherever many
    #: records' pages are linked at once (the audit trail), so a page of links costs one
    #: query per record type.
    url_related: ClassVar[tuple[str, ...]] = ()
    #: True: another record's history names a record of this type to every reader (people
    #: and departments, whom every page names). False: only to readers who may view it
    #: (core.permissions.scope_for_user); the others read "<type> you may not view".
    history_name_public: ClassVar[bool] = False
    #: Text fields that name another record (a generic link's copied number, a hand-off's
    #: reference) -> where that record is: the content-type field and the id field of the
    #: link (``("source_type", "source_id")``), or a model label and the field the text is
    #: (``("capa.Capa", "number")``). The history shows the text only to readers who may
    #: view that record, like a foreign key's value.
    record_references: ClassVar[Mapping[str, tuple[str, str]]] = {}

    def audit_repr(self) -> str:
        """The record's name in the audit trail. Keep it language-neutral and free of
        queries (it runs on every audited write). Default: ``str(self)``."""
        return str(self)

    def signature_content(self) -> dict[str, Any] | None:
        """What an electronic signature binds to (hashed; a later change shows the signature
        as no longer matching). Default ``None``: every audited field except ``version`` and
        :attr:`signature_exclude`."""
        return None

    def retention_dates(self) -> RetentionDates:
        """The dates the record's retention rule counts from (core.retention). Default: none;
        the start is then the record's ``created_at``, else its first audit entry."""
        return {}

    @classmethod
    def visible_to(cls, user: Any, qs: models.QuerySet) -> models.QuerySet:
        """The object rule: narrow ``qs`` to the records ``user`` may see, after the role
        permission was checked (core.permissions.scope_for_user). Default: all of them."""
        return qs


#: The declared hooks by name (what the contract test checks overrides against).
HOOKS: dict[str, Any] = {
    name: RecordHooks.__dict__[name]
    for name in (
        "audit_exclude",
        "audit_masked",
        "audit_reason_required",
        "audit_view_perms",
        "choice_lists",
        "history_values",
        "signature_exclude",
        "retention_destroyable",
        "record_timeline",
        "url_related",
        "history_name_public",
        "record_references",
        "audit_repr",
        "signature_content",
        "retention_dates",
        "visible_to",
    )
}


def hook(obj: Any, name: str) -> Any:
    """The hook `name` of a record or model, or the declared default for a model that is not
    on ``AuditedModel`` (bound to `obj`, like an attribute of it would be)."""
    if name not in HOOKS:
        raise AttributeError(f"{name!r} is not a declared record hook (core.records.hooks)")
    value = getattr(obj, name, None)
    if value is not None:
        return value
    return getattr(RecordHooks, name) if not callable(HOOKS[name]) else _bound_default(obj, name)


def _bound_default(obj: Any, name: str) -> Any:
    declared = HOOKS[name]
    if isinstance(declared, classmethod):
        owner = obj if isinstance(obj, type) else type(obj)
        return declared.__get__(None, owner)
    return declared.__get__(obj, type(obj))
