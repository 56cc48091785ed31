"""The registry of import kinds: ``@register`` an importer in an app's ``imports`` module;
``autodiscover()`` (CoreConfig.ready) imports those modules so the web process and the
worker know the same kinds."""

from __future__ import annotations

from typing import Any

from django.utils.module_loading import autodiscover_modules

from .spec import Importer

_registry: dict[str, type[Importer]] = {}


def register(cls: type[Importer]) -> type[Importer]:
    if not cls.kind or not cls.permission:
        raise ValueError("An importer needs a kind and a permission")
    _registry[cls.kind] = cls
    return cls


def autodiscover() -> None:
    autodiscover_modules("imports")


def get_importer(kind: str) -> type[Importer] | None:
    return _registry.get(kind)


def all_importers() -> list[type[Importer]]:
    return sorted(_registry.values(), key=lambda c: (c.order, c.kind))


def importers_for(user: Any) -> list[type[Importer]]:
    return [cls for cls in all_importers() if cls.allowed(user)]
