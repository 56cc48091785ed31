"""Audit trail storage (PLAT-2) and the base class of every regulated model."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _

from ..records.hooks import RecordHooks


class ConflictError(Exception):
    """Someone else changed the record since it was read (optimistic version check)."""

    def __init__(self, message: str | None = None) -> None:
        super().__init__(
            message
            or str(
                _(
                    "This record was changed by someone else after you opened it. "
                    "Reload it and apply your change again."
                )
            )
        )


class _AnyVersion:
    def __repr__(self) -> str:
        return "ANY_VERSION"


ANY_VERSION: Any = _AnyVersion()
"""`version=ANY_VERSION`: a service call that is not a user's edit of what they read (a
system action, a withdrawal that touches no edited field) skips the optimistic version check."""


class RegulatedDeleteError(PermissionDenied):
    """Regulated records are never hard-deleted outside the retention destruction process."""


def guard_destroy(model: type[models.Model]) -> None:
    """The one "never destroyed" rule (ARCHITECTURE rule 3), checked by every delete of an
    audited record, one by one or in bulk: refused unless the retention process is destroying
    (``audit_context(allow_destroy=True)``, core.retention) a record type that may be
    destroyed at all (``retention_destroyable``, core/records/hooks.py)."""
    from .context import current_context

    if not current_context().allow_destroy:
        raise RegulatedDeleteError(
            _(
                "Regulated records cannot be deleted; void them, or use a destruction request "
                "after the retention period."
            )
        )
    if not getattr(model, "retention_destroyable", True):
        raise RegulatedDeleteError(
            _("Records of this type are kept permanently and are never destroyed.")
        )


class AuditChain(models.Model):
    """Head of one record's hash chain. Writes to different records lock different heads,
    so audited writes proceed in parallel; writes to one record queue on its head."""

    # db_index off: the unique (content_type, object_id[, seq]) index leads with it.
    # db_constraint off: see AuditEntry.content_type.
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    object_id = models.CharField(max_length=64)
    last_seq = models.PositiveIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="")
    mac = models.CharField(max_length=64, default="")  # HMAC over (key, last_seq, last_hash)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["content_type", "object_id"], name="audit_chain_uniq")
        ]

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionDenied("Audit chains cannot be deleted.")


class AppendOnly:
    """Rows of the audit trail's own tables are written once: saving an existing row or
    deleting one is refused (the database triggers refuse it too)."""

    append_only_message = "This record is append-only."

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:  # type: ignore[attr-defined]
            raise PermissionDenied(self.append_only_message)
        super().save(*args, **kwargs)  # type: ignore[misc]

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionDenied(self.append_only_message)


class AuditEntryQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise PermissionDenied("Audit entries are append-only.")

    def delete(self) -> Any:
        raise PermissionDenied("Audit entries are append-only.")

    def bulk_update(self, *args: Any, **kwargs: Any) -> int:
        raise PermissionDenied("Audit entries are append-only.")


class AuditEntry(AppendOnly, models.Model):
    class Action(models.TextChoices):
        CREATE = "create", _("created")
        UPDATE = "update", _("changed")
        DELETE = "delete", _("deleted")
        SIGN = "sign", _("signed")
        EVENT = "event", _("event")

    id = models.BigAutoField(primary_key=True)
    timestamp = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # covered by audit_actor_ts
        db_constraint=False,  # see content_type
    )
    actor_name = models.CharField(max_length=200)
    source = models.CharField(max_length=80, blank=True)
    request_id = models.CharField(max_length=64, blank=True)
    # db_index off: the unique (content_type, object_id[, seq]) index leads with it.
    # db_constraint off (here, on actor and on AuditChain.content_type): a database foreign
    # key makes every audited write lock the referenced content type (and user) row FOR KEY
    # SHARE at commit — all writers share those few rows, and the checks took a third of
    # the audit's cost (benchmarks/audit_write.py). The references stay guarded where it
    # matters: entries are append-only and HMAC-verified, and content types and users are
    # never deleted under them (PROTECT in the ORM; users are deactivated, not deleted).
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    object_id = models.CharField(max_length=64)
    object_repr = models.CharField(max_length=200, blank=True)
    action = models.CharField(max_length=16, choices=Action.choices)
    changes = models.JSONField(default=dict, blank=True)
    reason = models.TextField(blank=True)
    seq = models.PositiveIntegerField()
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit entry")
        verbose_name_plural = _("audit entries")
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id", "seq"], name="audit_entry_chain_seq"
            )
        ]
        # Few indexes on purpose: every one is paid on each audited write.
        indexes = [
            models.Index(fields=["actor", "timestamp"], name="audit_actor_ts"),
            models.Index(fields=["request_id"], name="audit_request_id"),
        ]

    append_only_message = "Audit entries are append-only."

    def __str__(self) -> str:
        return (
            f"{self.timestamp:%Y-%m-%d %H:%M:%S} {self.actor_name} {self.action} {self.object_repr}"
        )


class AuditedQuerySet(models.QuerySet):
    """Bulk operations on regulated models are audited too (or refused, for delete)."""

    def update(self, **kwargs: Any) -> int:
        from . import bulk

        return bulk.audited_update(self, kwargs)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        from . import bulk

        if kwargs.get("ignore_conflicts") or kwargs.get("update_conflicts"):
            raise PermissionDenied(
                "bulk_create with conflict handling cannot be audited on regulated models."
            )
        objs = list(objs)
        # `savepoint=False`: no savepoint of its own (as Django's bulk_create) — for a caller
        # whose transaction ends if this fails anyway (two round trips fewer, e.g. inside a
        # numbering lock); the rows never commit without their entries either way
        savepoint = kwargs.pop("savepoint", True)
        with transaction.atomic(using=self.db, savepoint=savepoint):
            # on PostgreSQL the entries are made while the records' COPY is stored
            made = bulk.CreationRows(self.model) if objs else None
            each_round = made.add if made is not None else None
            if not bulk.copy_insert(self.model, objs, self.db, each_round):
                objs = super().bulk_create(objs, *args, **kwargs)
            bulk.record_bulk_create(objs, made)
        return objs

    def bulk_update(self, objs: Any, fields: Any, *args: Any, **kwargs: Any) -> int:
        from . import bulk

        return bulk.audited_bulk_update(self, objs, fields, super().bulk_update, args, kwargs)

    def delete(self) -> Any:
        guard_destroy(self.model)
        deleted = 0
        with transaction.atomic(using=self.db):
            for obj in self.select_for_update():
                obj.delete()
                deleted += 1
        return deleted, {self.model._meta.label: deleted}


class AuditedModel(RecordHooks, models.Model):
    """Base of every regulated record: audited saves and deletes, optimistic version check,
    no hard delete outside retention destruction (guard_destroy). The hooks the platform
    reads (audit_repr, retention_dates, visible_to, ...) are declared with their defaults in
    RecordHooks (core/records/hooks.py); the fields records share are the mixins of
    core/records/contract.py."""

    version = models.PositiveIntegerField(default=1, editable=False)

    objects = AuditedQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def from_db(cls, db: Any, field_names: Any, values: Any) -> Any:
        instance = super().from_db(db, field_names, values)
        instance._audit_loaded = True  # snapshot taken lazily in save()
        instance._audit_snapshot = None  # type: ignore[assignment]
        return instance

    def _audit_old(self) -> dict[str, Any] | None:
        from .values import snapshot

        if self._state.adding:
            return None
        old = getattr(self, "_audit_snapshot", None)
        if old is not None:
            return old
        current = type(self)._base_manager.using(self._state.db).filter(pk=self.pk).first()
        return snapshot(current) if current is not None else None

    def save(self, *args: Any, **kwargs: Any) -> None:
        from . import fastpath, recorder
        from .values import snapshot

        using = kwargs.get("using") or self._state.db or "default"
        # A savepoint of its own, so that a caller's transaction goes on after a failed save;
        # `save(savepoint=False)` (as Django's Model.save) for a caller whose transaction
        # ends if this fails anyway: two round trips fewer, e.g. inside a numbering lock. The
        # record never commits without its entry either way.
        savepoint = kwargs.pop("savepoint", True)
        with transaction.atomic(using=using, savepoint=savepoint):
            adding = self._state.adding
            old = None if adding else self._audit_old()
            reserved = False
            if not adding:
                self._audit_expected_version = self.version
                self.version = self.version + 1
                uf = kwargs.get("update_fields")
                if uf is not None:
                    kwargs["update_fields"] = list({*uf, "version"})
            elif self.pk is None and fastpath.one_statement_create(type(self), using):
                # Key first, so that _do_insert writes the record and its entry together.
                self.pk = fastpath.reserved_key(type(self), using)
                self._audit_one_statement = True
                kwargs["force_insert"] = True
                reserved = True
            try:
                super().save(*args, **kwargs)
            except Exception:
                if not adding:
                    self.version = self._audit_expected_version
                if reserved:
                    self.pk = None
                    self.__dict__.pop("_audit_one_statement", None)
                raise
            if adding:
                snap = self.__dict__.pop("_audit_inserted", None)
                self._audit_snapshot = snap if snap is not None else recorder.record_creation(self)
                return
            new = snapshot(self)
            recorder.record_change(self, old, new, created=False)
            self._audit_snapshot = new

    def _do_insert(
        self, manager: Any, using: Any, fields: Any, returning_fields: Any, raw: Any
    ) -> Any:
        if not self.__dict__.pop("_audit_one_statement", False):
            return super()._do_insert(manager, using, fields, returning_fields, raw)
        from . import fastpath

        rows, snap = fastpath.insert_with_first_entry(
            self, manager.model, using, fields, returning_fields, raw
        )
        if snap is not None:
            self._audit_inserted = snap
        return rows

    def _do_update(
        self,
        base_qs: Any,
        using: Any,
        pk_val: Any,
        values: Any,
        update_fields: Any,
        forced_update: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        expected = getattr(self, "_audit_expected_version", None)
        if expected is None:
            return super()._do_update(
                base_qs, using, pk_val, values, update_fields, forced_update, *args, **kwargs
            )
        # Use the plain manager here: our update() is the audited bulk path.
        plain = models.QuerySet(model=type(self), using=using).filter(version=expected)
        updated = super()._do_update(
            plain, using, pk_val, values, update_fields, forced_update, *args, **kwargs
        )
        if (
            not updated
            and models.QuerySet(model=type(self), using=using).filter(pk=pk_val).exists()
        ):
            raise ConflictError()
        return updated

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        from . import recorder
        from .values import snapshot

        guard_destroy(type(self))
        using = kwargs.get("using") or self._state.db or "default"
        with transaction.atomic(using=using):
            old = snapshot(self)
            pk = self.pk
            result = super().delete(*args, **kwargs)
            recorder.record_change(self, old, None, created=False, deleted=True, pk=pk)
        return result

    def check_version(self, expected: Any) -> None:
        """Raise ConflictError unless `expected` is the current version: the one the user
        read before editing. A missing, empty or malformed version is a conflict too — an
        edit that does not say which version it changes must not overwrite a newer save.
        Code that changes a record without a user's edit passes ANY_VERSION."""
        if expected is ANY_VERSION:
            return
        try:
            given = int(expected)
        except (TypeError, ValueError, OverflowError):
            raise ConflictError() from None
        if given != self.version:
            raise ConflictError()


class AuditSealedHead(models.Model):
    """Where one record's chain stood at the latest seal (one row per chain, moved forward by
    each seal). Its rows are pinned by the latest seal's digest; `medvigil audit verify`
    flags a chain whose head is now behind its sealed position (a rollback)."""

    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # the unique index leads with it
        db_constraint=False,  # see AuditEntry.content_type
    )
    object_id = models.CharField(max_length=64)
    seq = models.PositiveIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["content_type", "object_id"], name="audit_sealedhead_uniq"
            )
        ]


class AuditSeal(AppendOnly, models.Model):
    """A sealed checkpoint of the whole trail (PLAT-2): the number of chains and a keyed digest
    of every chain's head (AuditSealedHead) at that moment, MAC'd with the audit key and linked
    to the previous seal. Written by the periodic job and by `medvigil audit seal`; optionally
    also appended to a file outside the database (AUDIT_SEAL_FILE). Append-only."""

    class Kind(models.TextChoices):
        PERIODIC = "periodic", _("periodic")
        MANUAL = "manual", _("manual")
        AFTER_RESTORE = "after_restore", _("after a restore")

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=Kind.choices)
    actor_name = models.CharField(max_length=200)
    reason = models.TextField(blank=True)
    chains = models.PositiveBigIntegerField()
    advanced = models.PositiveBigIntegerField(default=0)  # heads moved since the last seal
    digest = models.CharField(max_length=64)
    prev_mac = models.CharField(max_length=64, blank=True)
    mac = models.CharField(max_length=64, unique=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit seal")
        verbose_name_plural = _("audit seals")

    append_only_message = "Audit seals are append-only."

    def __str__(self) -> str:
        return f"seal #{self.pk} {self.created_at:%Y-%m-%d %H:%M:%S}"


class AuditBatch(AppendOnly, models.Model):
    """One audit record for many system-generated records created together (a batch
    audit, PLAT-2): who or what generated them and when (the audit context), how many, the
    keys they got and a SHA-256 digest of their values in key order. It is written once, by
    :func:`medvigil.core.audit.batch.record_batch_create`, with its own creation entry in the
    normal hash chain; the records carry a reference to it (:class:`BatchAuditedMixin`) and
    their history shows that entry as their creation. Only system-generated *planned* records
    may be created this way, never an operator's entry (docs/audit-trail.md). Append-only."""

    id = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField(_("created at"))
    content_type = models.ForeignKey(
        ContentType,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,  # see AuditEntry.content_type
        verbose_name=_("record type"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_constraint=False,  # see AuditEntry.actor
        verbose_name=_("actor"),
    )
    actor_name = models.CharField(_("actor"), max_length=200)
    source = models.CharField(_("source"), max_length=80, blank=True)
    request_id = models.CharField(_("request id"), max_length=64, blank=True)
    note = models.CharField(_("note"), max_length=200, blank=True)
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    count = models.PositiveBigIntegerField(_("records"), default=0)
    # [[first, last], ...]: runs of consecutive keys (one run unless another writer took keys
    # of the same table while the batch was written)
    key_ranges = models.JSONField(_("keys"), default=list, blank=True)
    columns = models.JSONField(_("columns"), default=list, blank=True)  # digest column order
    digest = models.CharField(_("SHA-256"), max_length=64, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        verbose_name = _("audit batch")
        verbose_name_plural = _("audit batches")

    append_only_message = "Audit batches are append-only."

    def __str__(self) -> str:
        return f"batch #{self.pk}"

    @property
    def first_key(self) -> Any:
        return self.key_ranges[0][0] if self.key_ranges else None

    @property
    def last_key(self) -> Any:
        return self.key_ranges[-1][1] if self.key_ranges else None


class BatchAuditedMixin(models.Model):
    """A regulated record that system jobs may generate in bulk with one audit record per
    run (:func:`medvigil.core.audit.batch.record_batch_create`): its ``audit_batch`` is that
    run's :class:`AuditBatch` (empty for a record created one by one, which has its own
    creation entry). Changes after the creation are audited per record, as always."""

    # db_index off: nothing looks rows up by batch without a key range (batch.verify_batch);
    # db_constraint off: the batch is written in the same transaction and never deleted
    # (append-only), and a foreign-key check per generated row was a cost paid millions of
    # times a year (benchmarks/service.py).
    audit_batch = models.ForeignKey(
        AuditBatch,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
        verbose_name=_("generated by"),
    )

    class Meta:
        abstract = True
