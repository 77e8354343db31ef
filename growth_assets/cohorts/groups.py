"""Groups of products for the cohort assets that count in memory (triangle.py, lifecycle.py,
adoption.py): each counts one group at a time and sums the portfolio rows afterwards, so
its memory follows a group's users, not the warehouse's."""

from sqlalchemy.engine import Connection

from resources.warehouse import Warehouse

GROUP_MEMBERS = 500_000
"""Products are taken together until their users (members) exceed this many, a product
with more alone. The design scale's 50,000 users and the 5M-event world's 345,000 are one
group, as fast as one pass; at 20 million events (1.4 million members) a group's memory
follows a few hundred thousand of them."""


def product_groups(sizes: list[tuple[str, int]], limit: int = GROUP_MEMBERS) -> list[list[str]]:
    """Consecutive products whose members add up to at most ``limit`` (or one product)."""
    groups: list[list[str]] = []
    total = 0
    for product_id, members in sizes:
        if not groups or total + members > limit:
            groups.append([])
            total = 0
        groups[-1].append(product_id)
        total += members
    return groups


def groups_of(conn: Connection, users: str, limit: int = GROUP_MEMBERS) -> list[list[str]]:
    """The product groups of the run's numbered users in the temporary table ``users``
    (one row per product and user, a ``product_id`` column); none if it is empty."""
    rows = Warehouse.fetch_file(conn, "cohorts/product_sizes", users=users)
    return product_groups([(r.product_id, int(r.users)) for r in rows], limit)
