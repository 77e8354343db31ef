"""Which generated world a demo warehouse holds, so a demo run never mixes two worlds.

Raw tables are upserted by source id and sources never delete, which is right for real APIs
but wrong for the demo: after a change of seed, scale or generator, the records the new
world no longer has would linger beside the new ones (a larger old world leaves its extra
tickets and events behind). The demo therefore records the world it built in
``ops.demo_world`` (its configuration, the size of every stream and the generator version)
and, on the next run:

* same world: builds incrementally on what is there (a re-run converges, nothing changes);
* another world: drops the warehouse schemas and rebuilds from nothing (it only ever held
  generated data, so nothing is lost);
* events but no record: on the project's own local cluster (no ``GROWTH_WAREHOUSE_URL``),
  a warehouse built by a demo from before this record existed, rebuilt like another world;
  anywhere else the warehouse was not built by the demo, and the demo stops with an error
  rather than touch it.

A change of ``GROWTH_PSEUDONYMISE_KEY`` (set, changed or unset) over the same world empties
``growth`` but keeps ``raw`` (:func:`adopt_pseudonymisation`): the demo's run then rebuilds
it under the new setting, where the pipeline would refuse to mix two pseudonym spaces.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from enum import StrEnum
from typing import Any

from sqlalchemy.engine import make_url

from growth_assets.demo.world import GENERATOR_VERSION, DemoWorld
from growth_assets.models.pseudonyms import forget_user_ids, space_mismatch
from resources.migrations import migrate
from resources.pseudonyms import Pseudonymiser
from resources.warehouse import Warehouse, normalise_url


class DemoWarehouseError(RuntimeError):
    """The warehouse holds data the demo did not generate."""


class Preparation(StrEnum):
    FRESH = "fresh"  # an empty warehouse
    SAME = "same"  # built from this world before: incremental
    REBUILT = "rebuilt"  # built from another world: dropped and migrated again


def fingerprint(world: DemoWorld) -> dict[str, Any]:
    """The world's identity: configuration, generator version and every stream's size."""
    config = {k: str(v) for k, v in asdict(world.config).items()}
    counts = {f"{s}/{t}": n for (s, t), n in sorted(world.counts().items())}
    return {"generator": GENERATOR_VERSION, "config": config, "records": counts}


def prepare_warehouse(
    warehouse: Warehouse, world: DemoWorld, *, own_cluster: bool = False
) -> Preparation:
    """Make ``warehouse`` ready for ``world`` (migrated; rebuilt if it held another world).

    ``own_cluster``: the warehouse is the project's private local cluster, which only ever
    holds what the demo and the tests put there.
    """
    wanted = fingerprint(world)
    migrate(warehouse.engine, warehouse.timescaledb)
    with warehouse.engine.connect() as conn:
        recorded = Warehouse.fetch_file(conn, "demo/recorded_world")
        holds = bool(Warehouse.fetch_file(conn, "demo/holds_events")[0].holds)
    if recorded and recorded[0].fingerprint == wanted:
        return Preparation.SAME
    if not recorded and holds and not own_cluster:
        raise DemoWarehouseError(
            f"{_masked(warehouse.url)} holds events that the demo did not generate "
            "(no ops.demo_world record); the demo only builds into an empty warehouse or one "
            "it built before. Point GROWTH_WAREHOUSE_URL at an empty database, or unset it to "
            "use the project's own local cluster."
        )
    outcome = Preparation.FRESH
    if recorded or holds:
        with warehouse.transaction() as conn:
            Warehouse.run_file(conn, "demo/drop_schemas")
        migrate(warehouse.engine, warehouse.timescaledb)
        outcome = Preparation.REBUILT
    with warehouse.transaction() as conn:
        Warehouse.run_file(conn, "demo/record_world", {"fingerprint": json.dumps(wanted)})
    return outcome


def adopt_pseudonymisation(warehouse: Warehouse, pseudonyms: Pseudonymiser | None) -> bool:
    """Empty ``growth`` (keeping ``raw``) when it holds user ids of another pseudonym space
    than the current setting; True when it did. Only for the demo's generated warehouse."""
    with warehouse.engine.connect() as conn:
        differs = space_mismatch(conn, pseudonyms) is not None
    if differs:
        forget_user_ids(warehouse)
    return differs


def _masked(url: str) -> str:
    return make_url(normalise_url(url)).render_as_string(hide_password=True)
