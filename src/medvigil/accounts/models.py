"""Users, departments and roles (PLAT-1). Departments and roles are data that an
administrator edits; permissions come from roles; a read-only role (the auditor) is granted
only viewing permissions whatever else is attached to it."""

from __future__ import annotations

import hashlib
import secrets
from typing import Any, cast

from django.contrib.auth.models import AbstractUser, Permission, UserManager
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from medvigil.core.models import AuditedModel, AuditedQuerySet


class Department(AuditedModel):
    # named in other records' history to every reader, as every page names departments
    history_name_public = True

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")

    def __str__(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    def audit_repr(self) -> str:
        return f"{self.name_zh} / {self.name_en}"


class Role(AuditedModel):
    code = models.SlugField(_("code"), max_length=40, unique=True)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100)
    name_en = models.CharField(_("name (English)"), max_length=100)
    description = models.TextField(_("description"), blank=True)
    read_only = models.BooleanField(
        _("read-only"),
        default=False,
        help_text=_("Holders of a read-only role can view but never change anything."),
    )
    permissions = models.ManyToManyField(Permission, blank=True, verbose_name=_("permissions"))
    # Default permissions already offered to this role (see defaults.ensure_defaults).
    offered_permissions = models.JSONField(
        _("offered permissions"), default=list, blank=True, editable=False
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("role")
        verbose_name_plural = _("roles")

    def __str__(self) -> str:
        return self.name_en if (get_language() or "").startswith("en") else self.name_zh

    def audit_repr(self) -> str:
        return f"{self.name_zh} / {self.name_en}"


class AuditedUserManager(UserManager.from_queryset(AuditedQuerySet)):  # type: ignore[misc]
    pass


class User(AuditedModel, AbstractUser):
    # named in other records' history to every reader, as the history names its actors
    history_name_public = True

    display_name = models.CharField(
        _("printed name"), max_length=150, blank=True, help_text=_("Name printed on signatures.")
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        verbose_name=_("department"),
    )
    roles = models.ManyToManyField(Role, blank=True, related_name="users", verbose_name=_("roles"))
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    language = models.CharField(
        _("language"),
        max_length=10,
        blank=True,
        choices=[("zh-hans", "简体中文"), ("en", "English")],
    )

    objects = AuditedUserManager()

    audit_exclude = ("last_login",)
    audit_masked = ("password",)

    class Meta(AbstractUser.Meta):  # type: ignore[name-defined]
        swappable = "AUTH_USER_MODEL"
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self) -> str:
        return self.printed_name

    @property
    def printed_name(self) -> str:
        return self.display_name or self.get_full_name() or self.username

    def get_full_name(self) -> str:
        # Chinese order: family name first, no space.
        if self.last_name and self.first_name and not self.first_name.isascii():
            return f"{self.last_name}{self.first_name}"
        return super().get_full_name()

    @property
    def is_read_only(self) -> bool:
        """True for an auditor: every role the user holds is read-only (accounts.access:
        no query once the user's access is known in this process)."""
        from .access import access_for

        return access_for(self).read_only

    def role_codes(self) -> set[str]:
        from .access import access_for

        return set(access_for(self).role_codes)

    @property
    def role_list(self) -> tuple[Any, ...]:
        """The user's roles (code, names, read-only flag), ordered by code, without a query
        on a warm cache (accounts.access.RoleInfo)."""
        from .access import access_for

        return access_for(self).roles


class AccessStamp(models.Model):
    """One row whose value changes whenever anyone's access may change (accounts.access):
    each process keeps users' permissions until it reads another value here."""

    value = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("access stamp")
        verbose_name_plural = _("access stamps")

    def __str__(self) -> str:
        return str(self.value)


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class APIToken(AuditedModel):
    """A personal API token. Only its hash is stored; the raw value is shown once."""

    user = models.ForeignKey(
        User, on_delete=models.PROTECT, related_name="api_tokens", verbose_name=_("user")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=12)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    audit_exclude = ("last_used_at",)
    audit_masked = ("token_hash",)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @classmethod
    def issue(cls, user: User, name: str) -> tuple[APIToken, str]:
        raw = "mv_" + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, prefix=raw[:10], token_hash=_hash_token(raw)
        )
        return token, raw

    @classmethod
    def authenticate(cls, raw: str) -> User | None:
        """The token's user, in one query (token, user, department and the access stamp:
        accounts.access), or None for an unknown or revoked token or an inactive user."""
        from .userload import user_by_token

        found = user_by_token(_hash_token(raw))
        if found is None:
            return None
        user, token_pk, last_used_at = found
        if not user.is_active:
            return None
        now = timezone.now()
        if last_used_at is None or (now - last_used_at).total_seconds() > 60:
            # plain update: last_used_at is excluded from the trail by design
            models.QuerySet(model=cls).filter(pk=token_pk).update(last_used_at=now)
        return cast(User, user)

    def revoke(self, **_: Any) -> None:
        self.revoked_at = timezone.now()
        self.save()
