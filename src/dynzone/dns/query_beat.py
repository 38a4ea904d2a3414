"""Whether queries are arriving: what a long job (a zone transfer) checks to give way.

The listeners count the queries they take in; a job that holds the GIL for
long stretches compares the count with what it saw last. If queries came
in meanwhile, it sleeps briefly so the query threads can answer them; if
none did, it runs on at full speed. The count is only ever compared, so
increments that race between threads lose nothing that matters.
"""

from __future__ import annotations


class QueryBeat:
    """A counter of queries taken in, bumped by every listener."""

    __slots__ = ("count",)

    def __init__(self) -> None:
        self.count = 0


BEAT = QueryBeat()
