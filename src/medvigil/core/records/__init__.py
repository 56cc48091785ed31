"""The regulated-record contract and the domain-app contract (docs/development/domain-app.md).

- :mod:`.hooks` — every hook the platform reads on a record, with its default and docstring
  (the base of ``AuditedModel``).
- :mod:`.contract` — the abstract base ``RegulatedRecord`` and the small mixins records share
  (number, created by/at, owner, status with guards, voiding with a reason), and the one
  "never destroyed" rule.
- :mod:`.domain` — ``DomainApp``: the AppConfig base with which a domain app declares its
  navigation, role grants, retention rules, work and deadline providers, demo data, timeline
  entries, URLs, API router and importers in one place, and the loader that registers them.

This package imports nothing at module level, so that ``core.models`` can use ``.hooks``.
"""
