"""Rules of the complaint flow as data, each with its citation (conventions: rules with
citations). Severity rules (FBK-3) and the default routing of categories to departments."""

from __future__ import annotations

from dataclasses import dataclass

from .models import Category


@dataclass(frozen=True)
class RouteDefault:
    category: str
    department: str  # accounts.Department code (accounts/defaults.py DEPARTMENTS)
    notify: tuple[str, ...]
    citation: str


# FBK-3 / seed 003 4.2.2-4.2.3: general problems (delivery, price, transport, usage) stay with
# customer service (市场部); design, production or quality defects go to quality (科技质量部)
# with notices to the departments concerned.
DEFAULT_ROUTES: tuple[RouteDefault, ...] = (
    RouteDefault(
        Category.PRODUCT_QUALITY,
        "quality",
        ("technical", "customer-service"),
        "seed 003 售后服务和顾客反馈处理控制程序 4.2.3; 售后服务管理程序 4.2.1 (质量类抱怨→品保部)",
    ),
    RouteDefault(
        Category.SERVICE_ATTITUDE,
        "service",
        ("customer-service",),
        "seed 003 客户投诉处理程序 4、5 (被投诉部门负责投诉内容的限期改进)",
    ),
    RouteDefault(
        Category.INSTALLATION,
        "service",
        ("quality",),
        "seed 003 售后服务管理程序 4.2.1 (交付、装机…质量类抱怨); 3 工艺设备部/电气部",
    ),
    RouteDefault(
        Category.DELIVERY,
        "customer-service",
        ("logistics", "sales"),
        "seed 003 售后服务和顾客反馈处理控制程序 4.2.2 (交付期、价格及运输)",
    ),
    RouteDefault(
        Category.USAGE,
        "customer-service",
        ("quality",),
        "seed 003 售后服务和顾客反馈处理控制程序 4.2.2 (顾客使用方法)",
    ),
)
