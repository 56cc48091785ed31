"""Demo users, one per role (documented in README). Domain apps add their demo records by
registering a loader with `register_demo`."""

from __future__ import annotations

from collections.abc import Callable

DEMO_PASSWORD = "medvigil-demo"

# username, printed name, role code, department code
DEMO_USERS = [
    ("admin", "系统管理员 Admin", "admin", "it"),
    ("service", "王芳 Wang Fang (客服)", "customer_service", "customer-service"),
    ("engineer", "张伟 Zhang Wei (工程师)", "service_engineer", "service"),
    ("svcmgr", "马骏 Ma Jun (售后经理)", "service_manager", "service"),
    ("logistics", "刘洋 Liu Yang (物流)", "logistics", "logistics"),
    ("quality", "李娜 Li Na (质量)", "quality", "quality"),
    ("qmgr", "黄丽 Huang Li (质量经理)", "quality_manager", "quality"),
    ("tech", "陈杰 Chen Jie (技术)", "technical", "technical"),
    ("mgmtrep", "赵敏 Zhao Min (管代)", "management_rep", "management"),
    ("gm", "孙强 Sun Qiang (总经理)", "general_manager", "management"),
    ("sales", "周磊 Zhou Lei (销售)", "sales", "sales"),
    ("finance", "吴静 Wu Jing (财务)", "finance", "finance"),
    ("auditor", "郑洁 Zheng Jie (审核员)", "auditor", "audit"),
]

_loaders: list[Callable[[], None]] = []


def register_demo(loader: Callable[[], None]) -> Callable[[], None]:
    if loader not in _loaders:
        _loaders.append(loader)
    return loader


def load_demo_users() -> None:
    from .models import Department, Role, User

    for username, name, role, dept in DEMO_USERS:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                display_name=name,
                email=f"{username}@demo.medvigil",
                department=Department.objects.get(code=dept),
            )
            user.set_password(DEMO_PASSWORD)
            if username == "admin":
                user.is_staff = True
                user.is_superuser = True
            user.save()
            user.roles.set(Role.objects.filter(code=role))


def load_all() -> None:
    load_demo_users()
    for loader in _loaders:
        loader()
