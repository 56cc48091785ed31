"""SVC-10 × PLAT-1: what each seed role may do with spare parts — grants declared in
PartsConfig.role_permissions, never in accounts/defaults.py."""

from __future__ import annotations

import pytest

from medvigil.accounts.defaults import ROLE_PERMISSIONS
from medvigil.core.permissions import scope_for_user
from medvigil.parts.models import StockLevel, StockLocation, StockMovement

pytestmark = [pytest.mark.django_db, pytest.mark.req("SVC-10", "PLAT-1")]

# role: (changes the catalogue, any movement, own-van issue, sees every van)
EXPECTED = {
    "logistics": (True, True, True, True),
    "service_engineer": (False, False, True, False),
    "quality": (False, False, False, True),
    "technical": (False, False, False, True),
    "finance": (False, False, False, True),
    "management_rep": (False, False, False, True),
    "general_manager": (False, False, False, True),
    "auditor": (False, False, False, True),
    "customer_service": (False, False, False, False),
    "sales": (False, False, False, False),
}


def test_parts_grants_live_in_the_parts_app():
    assert not [p for ps in ROLE_PERMISSIONS.values() for p in ps if p.startswith("parts.")]


@pytest.mark.parametrize("role", sorted(EXPECTED))
def test_each_seed_role(role, make_user):
    user = make_user(f"u_{role}", role)
    change, move, van, every = EXPECTED[role]
    assert user.has_perm("parts.change_part") is change
    assert user.has_perm("parts.add_stockmovement") is move
    assert user.has_perm("parts.use_van_stock") is van
    assert user.has_perm("parts.view_all_stock") is every
    assert not user.has_perm("parts.delete_stockmovement")


def test_who_sees_which_location_and_movement(stock, make_user):
    s = stock
    s.receive(2, at=s.van)
    s.receive(2, at=s.van2)
    s.receive(2)
    sees = {
        "keeper": s.keeper,
        "engineer": s.engineer,
        "cs": make_user("cs", "customer_service"),
        "quality": make_user("q", "quality"),
    }
    locations = {
        k: set(scope_for_user(u, StockLocation).values_list("code", flat=True))
        for k, u in sees.items()
    }
    assert locations == {
        "keeper": {"WH-1", "VAN-1", "VAN-2"},
        "engineer": {"WH-1", "VAN-1"},
        "cs": {"WH-1"},
        "quality": {"WH-1", "VAN-1", "VAN-2"},
    }
    levels = {
        k: scope_for_user(u, StockLevel).filter(quantity__gt=0).count() for k, u in sees.items()
    }
    assert levels == {"keeper": 3, "engineer": 2, "cs": 1, "quality": 3}
    moves = {k: scope_for_user(u, StockMovement).count() for k, u in sees.items()}
    assert moves == {"keeper": 3, "engineer": 1, "cs": 0, "quality": 3}
