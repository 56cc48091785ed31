"""Spare parts (SVC-10): the parts catalogue, stock locations (warehouses, engineers' vans),
stock movements through one service (`services.move`), safety stock and reorder points from
the installed base, failure rates and lead times, and the reorder list. See docs/parts.md."""
