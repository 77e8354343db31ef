"""growth-assets: a growth-analytics warehouse as a Dagster code location.

The folders follow the data: ``sources`` (APIs → ``raw``), ``models`` (``raw`` → canonical
``growth`` tables → rollups), and ``definitions.py`` assembles them into one ``Definitions``.
"""
