from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "medvigil.core"
    label = "core"
    verbose_name = _("Platform")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (m2m audit, login audit)
