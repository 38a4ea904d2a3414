"""Both UDP paths (batching thread and asyncio fallback) and TCP answer real sockets."""

from __future__ import annotations

import asyncio
import socket

import dns.message
import dns.name
import dns.query
import pytest

from dynzone.dns import listeners, udp_batch
from dynzone.dns.responder import Responder
from dynzone.engine.catalog import Catalog
from dynzone.engine.settings import HostPort
from dynzone.zones.snapshot import ZoneSnapshot
from dynzone.zones.zonefile import read_zone_text
from tests.peers import free_port

ZONE = "$TTL 60\n@ SOA ns1 host 1 2 3 4 5\n@ NS ns1\nns1 A 192.0.2.1\nwww A 192.0.2.80\n"


def responder() -> Responder:
    origin = dns.name.from_text("example.com")
    return Responder(Catalog([ZoneSnapshot(origin, read_zone_text(ZONE, origin))]))


async def exchange(port: int, tcp: bool) -> dns.message.Message:
    q = dns.message.make_query("www.example.com", "A")
    ask = dns.query.tcp if tcp else dns.query.udp
    return await asyncio.to_thread(ask, q, "127.0.0.1", 3, port)


@pytest.mark.parametrize("batched", [True, False], ids=["recvmmsg-thread", "asyncio-fallback"])
def test_listeners_answer_over_udp_and_tcp(monkeypatch: pytest.MonkeyPatch, batched: bool) -> None:
    if batched and not udp_batch.available():
        pytest.skip("recvmmsg/sendmmsg are not available on this system")
    monkeypatch.setattr(udp_batch, "available", lambda: batched)
    port = free_port()

    async def scenario() -> None:
        closers = await listeners.open_listeners(
            (HostPort("127.0.0.1", port),), responder(), listeners.TcpLimits(5, 10)
        )
        try:
            for tcp in (False, True):
                reply = await exchange(port, tcp)
                assert [rd.to_text() for rrset in reply.answer for rd in rrset] == ["192.0.2.80"]
        finally:
            for close in closers:
                close()

    asyncio.run(scenario())
    # Closed means closed: the port can be bound again at once.
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", port))
