"""Keeping Python's cyclic garbage collector away from loaded zones.

Zones are millions of long-lived objects that form no reference cycles:
reference counting frees what a change or a reload drops, and the
collector's passes over them would only cost time, in proportion to the
zones (ARCHITECTURE.md, "A zone in memory").
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


def settle_heap(collect: bool = True) -> None:
    """Take what is loaded now out of the cyclic garbage collector's sight.

    The zones are millions of long-lived objects (names, records, nodes). A
    full collection walks every object, so without this each one costs in
    proportion to the zones, and the allocations of steady writes trigger
    them often: a commit into a big zone would cost more than into a small
    one. Frozen objects are still freed by reference counting when a change
    or a reload drops them; only cycles among them would stay, and
    snapshots make none. At a reload the freeze also takes in whatever is
    in flight (a request, a transfer); if that ends up in a cycle it stays
    until the process ends: small, and not worth the pause of collecting
    every zone object again (``gc.unfreeze``) at each reload.

    The youngest generation is collected every 10,000 allocations rather
    than 700: what a query or a change allocates is nearly all freed by
    reference counting, so scanning it that often finds little.

    ``collect`` first collects what can be collected, so that it is not
    frozen for good; ``Server.load_zones`` collects before loading instead (a
    loaded zone holds no cycles, and a collection after loading a million
    names would walk them all: over a second).
    """
    if collect:
        gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)


@contextmanager
def collector_paused(freeze: bool = False) -> Iterator[None]:
    """Hold off the cyclic garbage collector while zones are read or built;
    with ``freeze``, freeze what was made out of its sight afterwards.

    Reading a zone file makes several objects per record (names, rdata,
    records), all alive until the import is committed, and building a
    snapshot an object or two per name that live on. The collector's passes
    over them, longer as they pile up, took a third of a big import and
    doubled a snapshot's build; its first pass after a build would walk
    them all once more (near a second for a million names). None of them
    form cycles, so reference counting frees them all the same. Pauses may
    nest: only the outermost turns the collector back on.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if was_on:
            gc.enable()
