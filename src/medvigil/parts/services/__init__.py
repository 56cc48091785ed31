"""Services of the spare-parts app (SVC-10), one module per aggregate: ``master`` (parts,
the products they fit, stock locations), ``stock`` (``move`` — every movement goes through
it — the work-order functions of the service app, reversals, reading stock), ``reorder``
(safety stock, reorder point, the stock keepers' alerts and "My work")."""

from .master import (
    build_location,
    build_part,
    create_location,
    create_part,
    fitted_products,
    update_location,
    update_part,
)
from .reorder import (
    figures_for,
    notify_below,
    recompute_all,
    recompute_part,
    reorder_work,
    stock_keepers,
)
from .stock import (
    adjust_to_count,
    issue_for_work_order,
    ledger_levels,
    move,
    on_hand,
    parse_quantity,
    return_from_work_order,
    reverse_movement,
    van_of,
    verify_levels,
)

__all__ = [
    "adjust_to_count",
    "build_location",
    "build_part",
    "create_location",
    "create_part",
    "figures_for",
    "fitted_products",
    "issue_for_work_order",
    "ledger_levels",
    "move",
    "notify_below",
    "on_hand",
    "parse_quantity",
    "recompute_all",
    "recompute_part",
    "reorder_work",
    "return_from_work_order",
    "reverse_movement",
    "stock_keepers",
    "update_location",
    "update_part",
    "van_of",
    "verify_levels",
]
