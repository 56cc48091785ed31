"""Sign-in events in the audit trail (PLAT-1, PLAT-2).

Logins, logouts, failed logins and lock-outs are recorded as events on the user's own audit
chain, so an inspector sees them in the user's history next to role and department changes.

A failed login for a user name that does not exist has no record to attach an event to, and
writing a row per unknown name would let anyone fill the trail by posting random names. Those
attempts are deliberately not written to the audit trail; django-axes keeps them (user name
tried, address, time) in its access-attempt table, visible in the admin under "Axes".
"""

from __future__ import annotations

from typing import Any

from axes.signals import user_locked_out
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver
from django.utils.functional import LazyObject

from medvigil.core.audit import audit_context
from medvigil.core.audit.recorder import record_event


def _client(request: Any) -> dict[str, str]:
    if request is None:
        return {}
    ip = getattr(request, "axes_ip_address", None) or request.META.get("REMOTE_ADDR", "")
    return {"ip": str(ip or ""), "path": str(getattr(request, "path", ""))[:200]}


def _concrete(user: Any) -> Any:
    """request.user is a lazy wrapper; the audit trail needs the model instance itself."""
    if isinstance(user, LazyObject):
        _ = user.pk  # evaluate the wrapper
        return user._wrapped
    return user


def _user_named(username: Any) -> Any:
    if not username or not isinstance(username, str):
        return None
    user_model = get_user_model()
    return user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()


@receiver(user_logged_in, dispatch_uid="medvigil_audit_login")
def audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # The request's audit context was opened before the user was known: name them now.
    user = _concrete(user)
    with audit_context(actor=user):
        record_event(user, "login", _client(request))


@receiver(user_logged_out, dispatch_uid="medvigil_audit_logout")
def audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is None or not getattr(user, "pk", None):
        return  # logging out an anonymous session changes nothing
    user = _concrete(user)
    with audit_context(actor=user):
        record_event(user, "logout", _client(request))


@receiver(user_login_failed, dispatch_uid="medvigil_audit_login_failed")
def audit_login_failed(
    sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any
) -> None:
    user_model = get_user_model()
    user = _user_named(credentials.get(user_model.USERNAME_FIELD))
    if user is None:
        return  # unknown user name: kept by axes only (see the module docstring)
    data = _client(request)
    # axes' handler runs first (its app is installed earlier): it counts the failure, or, when
    # the account is already locked, refuses the attempt without checking the password.
    failures = getattr(request, "axes_failures_since_start", None)
    if failures is not None:
        data["failures"] = str(failures)
    message = "login failed"
    if getattr(request, "axes_locked_out", False) and failures is None:
        message = "login refused: account locked"
    # Actor: the request's context (anonymous on the login page; the signed-in user when a
    # password is re-entered for a signature).
    record_event(user, message, data)


@receiver(user_locked_out, dispatch_uid="medvigil_audit_locked_out")
def audit_locked_out(sender: Any, request: Any, username: Any, **kwargs: Any) -> None:
    if request is not None and getattr(request, "axes_failures_since_start", None) is None:
        return  # an attempt refused during an existing lock-out, not a new lock
    user = _user_named(username)
    if user is None:
        return
    record_event(user, "account locked", _client(request))
