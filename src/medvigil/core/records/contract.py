"""The regulated-record contract (ARCHITECTURE "rules that make it a regulated system").

A regulated record of a domain app is a model on :class:`RegulatedRecord`: audited on every
write (``AuditedModel``), numbered gaplessly, stamped with its creation time, never deleted
(voided or obsoleted with a reason; destroyed only by the retention process). Records that
share more use the small mixins below; what the platform reads on a record (its name in the
trail, what a signature binds to, its retention dates, its object access rule) are the hooks
declared in :mod:`medvigil.core.records.hooks`, inherited through ``AuditedModel``.

Put the mixins before the base class::

    class Complaint(OwnedMixin, CreatedByMixin, VoidableMixin, RegulatedRecord):
        numbering_type = "complaint"
        numbering_prefix = "FB"
        status = models.CharField(_("status"), max_length=12, choices=Status.choices,
                                  default=Status.OPEN)
        transitions = {Status.OPEN: {Status.CLOSED, Status.VOIDED}}

        def can_close(self) -> bool:  # a guard: the service checks it, the page asks it
            return self.can_transition(Status.CLOSED) and bool(self.conclusion)

"Never destroyed" is one rule, :func:`medvigil.core.audit.models.guard_destroy`, applied to
every delete of an audited record (one by one and in bulk).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..audit.models import AuditedModel, guard_destroy

__all__ = [
    "CreatedAtMixin",
    "CreatedByMixin",
    "NumberedMixin",
    "OwnedMixin",
    "RegulatedRecord",
    "StatusMixin",
    "VoidableMixin",
    "guard_destroy",
]


class NumberedMixin(models.Model):
    """A unique, gapless number per record type and year (PLAT-4, core.numbering), e.g.
    ``SO-2026-00042``. ``save()`` of a new record without a number takes the next one inside
    the creating transaction (a rollback gives it back). A service that validates the record
    before saving (``full_clean``) calls :meth:`assign_number` first; a bulk creator takes
    numbers with :meth:`next_number`."""

    number = models.CharField(gettext_lazy("number"), max_length=32, unique=True)

    #: The counter's record type (default: the model name); an administrator's
    #: NumberingScheme row for it sets the prefix and pattern.
    numbering_type: ClassVar[str] = ""
    #: The prefix when there is no NumberingScheme row (default: the type upper-cased).
    numbering_prefix: ClassVar[str | None] = None

    class Meta:
        abstract = True

    @classmethod
    def next_number(cls) -> str:
        """Take the next number (inside the transaction that creates the record)."""
        from ..numbering.services import next_number

        return next_number(
            cls.numbering_type or str(cls._meta.model_name), prefix=cls.numbering_prefix
        )

    @classmethod
    def next_numbers(cls, count: int) -> list[str]:
        """Take `count` consecutive numbers at once (records created together)."""
        from ..numbering.services import next_numbers

        return next_numbers(
            cls.numbering_type or str(cls._meta.model_name), count, prefix=cls.numbering_prefix
        )

    def assign_number(self) -> str:
        """Give this new record its number unless it has one."""
        if not self.number:
            self.number = type(self).next_number()
        return self.number

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not (self._state.adding and not self.number):
            super().save(*args, **kwargs)
            return
        using = kwargs.get("using") or self._state.db or "default"
        with transaction.atomic(using=using):
            self.assign_number()
            try:
                super().save(*args, **kwargs)
            except Exception:
                self.number = ""  # the rollback gives the number back
                raise


class CreatedAtMixin(models.Model):
    """When the record entered the system (also the default start of its retention)."""

    created_at = models.DateTimeField(gettext_lazy("created at"), auto_now_add=True)

    class Meta:
        abstract = True


class CreatedByMixin(models.Model):
    """Who created the record: the audit context's actor when the creator is not given (no
    query: the actor is already in memory). The trail's first entry says the same; this field
    is for lists, filters and object rules."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        verbose_name=gettext_lazy("created by"),
    )

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding and self.created_by_id is None:
            from ..audit.context import current_context

            actor = current_context().actor
            if getattr(actor, "pk", None) is not None:
                self.created_by = actor
        super().save(*args, **kwargs)


class OwnedMixin(models.Model):
    """The person responsible for the record (its owner), for "My work" and object rules."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=gettext_lazy("owner"),
    )

    class Meta:
        abstract = True

    def is_owned_by(self, user: Any) -> bool:
        return user is not None and self.owner_id is not None and self.owner_id == user.pk


class StatusMixin:
    """A status with explicit transitions and guard methods on the model (as Saleor does):
    the model says what may happen (``can_close()``), the service in ``services.py`` does it
    (checks the guard again under the row lock, changes the status, audits). The model
    declares its own ``status`` field (with its choices) and ``transitions``."""

    status: Any  # the model's status field
    #: status -> the statuses it may change to.
    transitions: ClassVar[Mapping[str, Collection[str]]] = {}

    def can_transition(self, to: str) -> bool:
        return to in self.transitions.get(self.status, ())

    def check_transition(self, to: str, message: str | None = None) -> None:
        """Raise ValidationError (nothing changed) unless the record may change to `to`."""
        if not self.can_transition(to):
            raise ValidationError(
                message
                or _("A record in status “%(status)s” cannot change to “%(to)s”.")
                % {"status": self.status, "to": to},
                code="transition",
            )


class VoidableMixin(StatusMixin, models.Model):
    """Voided (or obsoleted) with a reason instead of deleted: the record stays, with its
    status set to :attr:`void_status` and the reason kept. Who voided it and when are in the
    audit trail (the service voids under ``audit_context(actor=..., reason=...)``)."""

    void_reason = models.TextField(gettext_lazy("reason for voiding"), blank=True)

    #: The status that means voided (or "obsolete" for a record that is superseded).
    void_status: ClassVar[str] = "voided"

    class Meta:
        abstract = True

    @property
    def is_voided(self) -> bool:
        return bool(self.status == self.void_status)

    def can_void(self) -> bool:
        """Default guard: not voided yet, and voiding allowed from the current status when the
        model declares transitions."""
        if self.is_voided:
            return False
        return not self.transitions or self.can_transition(self.void_status)

    def mark_voided(self, reason: str) -> None:
        """Set the void status and reason (the service saves). Refused without a reason or
        when :meth:`can_void` says no."""
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": _("Give the reason.")}, code="reason")
        if not self.can_void():
            raise ValidationError(_("This record cannot be voided now."), code="transition")
        self.status = self.void_status
        self.void_reason = reason


class RegulatedRecord(NumberedMixin, CreatedAtMixin, AuditedModel):
    """The abstract base of a domain app's regulated record: audited, numbered, stamped with
    its creation time, never deleted. The contract test (core/tests/test_record_contract.py)
    checks every subclass."""

    class Meta:
        abstract = True
