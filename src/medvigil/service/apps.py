"""The service app's declaration (the domain-app contract, core.records.domain): navigation,
role grants per seed role, sensitive permissions (PLAT-11), retention, "My work", the
service-level deadline source, demo data and the unit timeline. URLs (service/urls.py) and the
API router (service/api.py) are picked up by their default names; the API is mounted at
/api/v1/ so the resource is /api/v1/service-requests."""

from django.utils.translation import gettext_lazy as _

from medvigil.core.records.domain import DomainApp, RetentionRuleSpec
from medvigil.core.registry import NavItem

RETENTION_CITATION = (
    "seed 001 售后服务档案 / 《医疗器械经营质量管理规范》: 售后服务记录应保存至产品有效期或"
    "使用期限过后"
    "一年以上; ISO 13485:2016 4.2.5 and 21 CFR 820.180 (device lifetime, at least 2 years). "
    "Company default: 10 years from the record (a setting on the retention page)."
)

_ENGINEER_WORK = [
    "view_*",
    "change_maintenancevisit",
    "add_servicerequest",
    "change_servicerequest",
    "change_workorder",
    "view_all_servicerequest",
    "view_contact_data",
    "core.add_attachment",
    "core.view_attachment",
    "complaints.add_feedback",
]


class ServiceConfig(DomainApp):
    name = "medvigil.service"
    label = "service"
    verbose_name = _("After-sales service")

    nav = (
        NavItem(
            _("Service requests"),
            "service:request_list",
            "service.view_servicerequest",
            35,
            group="service",
        ),
        NavItem(
            _("Dispatch board"),
            "service:dispatch_board",
            "service.dispatch_servicerequest",
            36,
            group="service",
        ),
        NavItem(
            _("Service ledger"),
            "service:ledger",
            "service.read_service_ledger",
            37,
            group="service",
        ),
    )
    sensitive_permissions = ("view_contact_data",)
    role_permissions = {
        # seed 003 售后服务部 2.1/2.3.1: the service manager runs dispatch and the qualifications
        "service_manager": [
            *_ENGINEER_WORK,
            "dispatch_servicerequest",
            "add_quote",
            "change_quote",
            "add_pricelistitem",
            "add_loan",
            "change_loan",
            "add_engineerqualification",
            "change_engineerqualification",
            "read_service_ledger",
        ],
        # seed 003 2.3.2 技术支持组: engineers serve on site; they work their own orders
        "service_engineer": _ENGINEER_WORK,
        # seed 003 2.3.3 客户服务组 / 售后服务(保期外)管理流程 三 1: customer service takes
        # requests in
        # and dispatches (委派合适的售后服务人员)
        "customer_service": [
            "view_*",
            "add_servicerequest",
            "change_servicerequest",
            "dispatch_servicerequest",
            "view_all_servicerequest",
            "view_contact_data",
            "add_quote",
            "change_quote",
            "change_maintenancevisit",
        ],
        # dealers and sales staff: the requests of their own customers (ServiceRequest.visible_to);
        # a dealer's qualified engineer fills in the work orders assigned to them
        "sales": [
            "view_servicerequest",
            "add_servicerequest",
            "view_workorder",
            "change_workorder",
            "view_engineerqualification",
            "view_contact_data",
        ],
        # the service ledger (售后服务台账) and its cost figures: service manager, quality, finance
        "quality": ["view_*", "view_all_servicerequest", "read_service_ledger"],
        "technical": ["view_*", "view_all_servicerequest"],
        "management_rep": ["view_all_servicerequest"],
        # seed 003 售后服务(保期外)管理流程 三 2: 报价负偏差超过10%的情况应由总经理审批
        "general_manager": ["view_all_servicerequest", "view_contact_data", "approve_quote"],
        "finance": ["view_*", "view_all_servicerequest", "read_service_ledger"],
        # 物流组: loaners out and back (seed 003 2.3.4)
        "logistics": [
            "view_servicerequest",
            "view_all_servicerequest",
            "view_loan",
            "add_loan",
            "change_loan",
        ],
        "auditor": ["view_all_servicerequest", "view_contact_data"],
    }
    retention_rules = (
        RetentionRuleSpec("servicerequest", "created", years=10, citation=RETENTION_CITATION),
        RetentionRuleSpec("workorder", "created", years=10, citation=RETENTION_CITATION),
        RetentionRuleSpec(
            "engineerqualification", "created", years=10, citation=RETENTION_CITATION
        ),
        RetentionRuleSpec("quote", "created", years=10, citation=RETENTION_CITATION),
        RetentionRuleSpec("loan", "created", years=10, citation=RETENTION_CITATION),
        RetentionRuleSpec("maintenancevisit", "created", years=10, citation=RETENTION_CITATION),
    )
    api_prefix = "v1"
    work = ("services.dispatching.my_work", "services.loans.my_work")
    deadline_sources = ("services.clocks.deadline_source", "services.maintenance.deadline_source")
    timeline = ("timeline.service_events",)
    demo = ("demo.load_demo",)

    def ready(self) -> None:
        super().ready()
        from .rules import register_rules

        register_rules()
