"""One zone as the changes of a group commit leave it, before any is published.

A batch (engine.py, ``_commit_batch``) applies its changes one after another
in one transaction; each must read the zone as the ones before it left it.
The view is the served snapshot underneath and the RRsets the batch changed
on top, so a change reads what it touches without the store and without a
new snapshot per change. Only when the batch is done does the view become
the next snapshot, with one ``evolve`` however many changes it took: the
SOA, changed by every change, is rebuilt once, and the cached answers to
retire are worked out once.
"""

from __future__ import annotations

from concurrent.futures import Future

import dns.name
import dns.rdataclass
import dns.rdatatype
import dns.rrset

from dynzone.engine.changeset import Outcome, RRsetChanges, Staged
from dynzone.zones.snapshot import ZoneSnapshot, key_of


class ZoneView:
    """The held snapshot of a zone at journal position ``position``, and the
    RRsets a batch changed since (``staged``, by owner key and type)."""

    def __init__(self, snapshot: ZoneSnapshot | Future[ZoneSnapshot], position: int) -> None:
        self._snapshot = snapshot
        self.position = position
        self.staged: dict[bytes, dict[int, Staged]] = {}
        self.fresh = False  # the snapshot is new (a zone created by the batch)
        # The store moved without this view (another process wrote to the
        # zone): the rest of the batch reads the store, and the next snapshot
        # comes from the journal.
        self.behind = False
        # The store was found at ``position`` inside the batch's transaction.
        self.checked = False

    @property
    def snapshot(self) -> ZoneSnapshot:
        """The snapshot underneath (waiting for it if it is still being built)."""
        if isinstance(self._snapshot, Future):
            self._snapshot = self._snapshot.result()
        return self._snapshot

    @property
    def building(self) -> Future[ZoneSnapshot] | None:
        """The new zone's snapshot still in the making, when the batch changed
        nothing else in the zone: the engine may wait for it once the commit is
        durable rather than before."""
        if isinstance(self._snapshot, Future) and not self.staged and not self.behind:
            return self._snapshot
        return None

    @classmethod
    def of_new_zone(cls, outcome: Outcome) -> ZoneView:
        """The view of a zone the batch created (``outcome`` of its ``NewZone``)."""
        assert outcome.snapshot is not None and outcome.position is not None
        view = cls(outcome.snapshot, outcome.position)
        view.fresh = True
        return view

    def read(self, name: dns.name.Name, rdtype: int) -> Staged:
        """The RRset as the batch left it so far: the caller must not change it
        (apply.py works on a copy of what it reads)."""
        key = key_of(name)
        at = self.staged.get(key)
        staged = at.get(rdtype) if at is not None else None
        if staged is not None:
            return staged
        node = self.snapshot.nodes.get(key)
        held = node.get(rdtype) if node is not None else None
        if held is None:
            return Staged(name, 0, [])
        return Staged(held.name, held.ttl, list(held))

    def types_at(self, name: dns.name.Name) -> set[int]:
        """The types of the RRsets at ``name`` as the batch left them so far."""
        key = key_of(name)
        node = self.snapshot.nodes.get(key)
        present = set(node) if node is not None else set()
        for rdtype, staged in self.staged.get(key, {}).items():
            if staged.rdatas:
                present.add(rdtype)
            else:
                present.discard(rdtype)
        return present

    def take(self, outcome: Outcome) -> None:
        """Move past a change of the batch that is certain to commit with it."""
        if outcome.position is None:
            return  # nothing changed
        if self.behind or outcome.position != self.position + 1 or outcome.staged is None:
            self.behind = True
            return
        for (key, rdtype), staged in outcome.staged.items():
            self.staged.setdefault(key, {})[rdtype] = staged
        self.position = outcome.position

    @property
    def changed(self) -> bool:
        return self.fresh or self.behind or bool(self.staged)

    def next_snapshot(self) -> tuple[ZoneSnapshot, set[bytes]]:
        """The snapshot the batch leaves (not when ``behind``), and the answer tags
        it touched since the one served."""
        changes: RRsetChanges = {}
        for by_type in self.staged.values():
            for rdtype, staged in by_type.items():
                changes[(staged.name, rdtype)] = _rrset(staged, rdtype)
        return self.snapshot.evolve(changes)


def _rrset(staged: Staged, rdtype: int) -> dns.rrset.RRset | None:
    if not staged.rdatas:
        return None
    out = dns.rrset.RRset(staged.name, dns.rdataclass.IN, dns.rdatatype.RdataType.make(rdtype))
    # The records are distinct already (apply.py keeps them so): filling the
    # set directly hashes each once, where add() would hash it twice.
    out.items = dict.fromkeys(staged.rdatas)
    out.ttl = staged.ttl
    return out
