"""Dagster resources for growth-assets: the warehouse and the source clients.

Assets talk to the outside world only through these typed ``ConfigurableResource`` classes, so
the demo and production differ in configuration, never in asset code.
"""

from resources.warehouse import Tier, Warehouse

__all__ = ["Tier", "Warehouse"]
