from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "medvigil.accounts"
    label = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (sign-in events in the audit trail)
        from .access import connect_signals

        connect_signals()  # the access stamp (accounts.access)
        from .defaults import ensure_defaults

        post_migrate.connect(ensure_defaults, dispatch_uid="medvigil_role_defaults")
