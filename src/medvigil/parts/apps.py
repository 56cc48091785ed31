"""The spare-parts app's declaration (the domain-app contract, core.records.domain):
navigation, role grants per seed role, retention, "My work", demo data. URLs (parts/urls.py),
the API router (parts/api.py, mounted at /api/v1/parts…) and the importer (parts/imports.py)
are picked up by their default names."""

from django.utils.translation import gettext_lazy as _

from medvigil.core.records.domain import DomainApp, RetentionRuleSpec
from medvigil.core.registry import NavItem

RETENTION_CITATION = (
    "ISO 13485:2016 4.2.5 / 7.5.4 (servicing records) and 21 CFR 820.180: kept at least for "
    "the lifetime of the device and not less than 2 years; the company default here is 10 "
    "years from the movement (a setting on the retention page)."
)
_IMPORT = ["core.add_importbatch", "core.view_importbatch"]
# What every reader of stock sees (not the movements of other engineers' vans: that is
# view_all_stock).
_READ = [
    "view_part",
    "view_partfit",
    "view_stocklocation",
    "view_stocklevel",
    "view_stockmovement",
    "view_reorderlevel",
]


class PartsConfig(DomainApp):
    name = "medvigil.parts"
    label = "parts"
    verbose_name = _("Spare parts")

    nav = (NavItem(_("Spare parts"), "parts:part_list", "parts.view_part", 40, group="service"),)
    role_permissions = {
        # DOMAIN.md §1: logistics / warehouse (物流组, 仓库) keep the spare parts: the
        # catalogue, the locations, every movement, the reorder list (the stock keeper).
        "logistics": ["*", "-delete_*", *_IMPORT],
        # Service engineers (售后服务工程师) see the parts, the warehouses and their own van,
        # and issue from / return to their own van on their work orders (SVC-4).
        "service_engineer": [*_READ, "use_van_stock"],
        # Quality and technical read everything: failure rates feed trend analysis (KPI-3).
        "quality": ["view_*"],
        "technical": ["view_*"],
        # Finance: the value of stock and the cost of parts used (service cost, KPI-2).
        "finance": ["view_*"],
        # Customer service answers "is the part in stock?" (warehouses only).
        "customer_service": ["view_part", "view_stocklocation", "view_stocklevel"],
        # management (管理者代表, 总经理) and auditors read everything through the platform's
        # *.view_* grant.
    }
    retention_rules = (
        RetentionRuleSpec("stockmovement", "created", years=10, citation=RETENTION_CITATION),
        RetentionRuleSpec("part", "created", years=10, citation=RETENTION_CITATION),
        RetentionRuleSpec("stocklocation", "created", years=10, citation=RETENTION_CITATION),
        RetentionRuleSpec("partfit", "created", years=10, citation=RETENTION_CITATION),
    )
    # The API's paths start with /parts: mounted at /api/v1/ the resources are
    # /api/v1/parts, /api/v1/parts/locations, /api/v1/parts/movements, …
    api_prefix = "v1"
    work = ("services.reorder_work",)
    demo = ("demo.load_demo",)
