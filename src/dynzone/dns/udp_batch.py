"""A UDP listener thread that moves packets in batches with recvmmsg/sendmmsg.

One system call receives up to ``BATCH`` queries and one sends their answers,
instead of two calls per query through the event loop. This is where most of
a small query's cost went (see bench/README.md). Linux only; ``available()``
says whether it can be used, and listeners.py falls back to the asyncio
datagram endpoint otherwise.

The thread reads ``Responder.catalog`` like every other caller: one reference
read per query, so a reload's swap is seen at once and never waits on us.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import logging
import socket
import struct
import sys
import threading

from dynzone.dns.handoff import AsyncAnswerer, Peer, answer_in_thread
from dynzone.dns.query_beat import BEAT
from dynzone.dns.responder import HANDOFF, Responder

log = logging.getLogger("dynzone.dns")

BATCH = 64
BUF_SIZE = 4096  # larger queries are not standard queries; they are cut and answered FORMERR
NAME_SIZE = 28  # sockaddr_in6, large enough for sockaddr_in too
MSG_WAITFORONE = 0x10000
_EAGAIN = {11, 35}  # EAGAIN / EWOULDBLOCK on Linux and BSD-likes
_EINTR = 4


class _Iovec(ctypes.Structure):
    _fields_ = [("iov_base", ctypes.c_void_p), ("iov_len", ctypes.c_size_t)]


class _Msghdr(ctypes.Structure):
    _fields_ = [
        ("msg_name", ctypes.c_void_p),
        ("msg_namelen", ctypes.c_uint32),
        ("msg_iov", ctypes.POINTER(_Iovec)),
        ("msg_iovlen", ctypes.c_size_t),
        ("msg_control", ctypes.c_void_p),
        ("msg_controllen", ctypes.c_size_t),
        ("msg_flags", ctypes.c_int),
    ]


class _Mmsghdr(ctypes.Structure):
    _fields_ = [("msg_hdr", _Msghdr), ("msg_len", ctypes.c_uint)]


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    name = ctypes.util.find_library("c")
    if name is None:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    if not hasattr(libc, "recvmmsg") or not hasattr(libc, "sendmmsg"):
        return None
    return libc


_LIBC = _libc()


def available() -> bool:
    """Whether batched UDP can be used on this system."""
    return _LIBC is not None


class BatchUdpListener:
    """Answer queries on one bound UDP socket from a dedicated thread."""

    def __init__(
        self,
        sock: socket.socket,
        responder: Responder,
        answerer: AsyncAnswerer | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        assert _LIBC is not None
        self.sock = sock
        self.responder = responder
        self.answerer = answerer
        self.loop = loop
        self._stop = threading.Event()
        # A receive timeout lets the thread notice stop() without extra sockets.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.pack("ll", 0, 200_000))
        self._thread = threading.Thread(
            target=self._run, name=f"dynzone-udp-{sock.getsockname()[1]}", daemon=True
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()

    def _hand_off(self, data: bytes, sockaddr: bytes) -> None:
        """Answer a handed-off message from this thread (handoff.answer_in_thread):
        the reply is sent from here, or, after a commit, from the engine's writer."""
        if self.answerer is None or self.loop is None:
            return
        address = _address(sockaddr)
        if address is None:
            return
        peer = Peer(address[0], address[1], False)
        sock = self.sock

        def send(reply: bytes) -> None:
            sock.sendto(reply, address)

        answer_in_thread(self.answerer, data, peer, send, self.loop)

    def _run(self) -> None:
        try:
            self._loop()
        except Exception:
            log.exception(
                "UDP listener failed; UDP queries on %s are no longer answered",
                self.sock.getsockname(),
            )

    def _loop(self) -> None:
        libc = _LIBC
        assert libc is not None
        n = BATCH
        rbufs = ctypes.create_string_buffer(n * BUF_SIZE)
        sbufs = ctypes.create_string_buffer(n * BUF_SIZE)
        names = ctypes.create_string_buffer(n * NAME_SIZE)
        riov, siov = (_Iovec * n)(), (_Iovec * n)()
        rmsgs, smsgs = (_Mmsghdr * n)(), (_Mmsghdr * n)()
        rbase, sbase = ctypes.addressof(rbufs), ctypes.addressof(sbufs)
        nbase = ctypes.addressof(names)
        for i in range(n):
            riov[i].iov_base, riov[i].iov_len = rbase + i * BUF_SIZE, BUF_SIZE
            siov[i].iov_base = sbase + i * BUF_SIZE
            for msgs, iov in ((rmsgs, riov), (smsgs, siov)):
                hdr = msgs[i].msg_hdr
                hdr.msg_iov = ctypes.pointer(iov[i])
                hdr.msg_iovlen = 1
                hdr.msg_name = nbase + i * NAME_SIZE
                hdr.msg_namelen = NAME_SIZE

        # Field access through ctypes costs more than the rest of a cached
        # answer, so the per-packet loop reads and writes the few fields it
        # needs through flat integer views at their struct offsets.
        words = memoryview(rmsgs).cast("B").cast("I")
        step = ctypes.sizeof(_Mmsghdr) // 4
        len_at = _Mmsghdr.msg_len.offset // 4
        namelen_at = (_Mmsghdr.msg_hdr.offset + _Msghdr.msg_namelen.offset) // 4
        iov_words = memoryview(siov).cast("B").cast("Q")
        iov_step = ctypes.sizeof(_Iovec) // 8
        iov_len_at = _Iovec.iov_len.offset // 8
        sview = memoryview(sbufs).cast("B")
        nview = memoryview(names).cast("B")  # an int per byte: the family's low byte
        # The sender's address matters only for rate limiting and cookies.
        want_client = self.responder.rrl is not None or self.responder.cookies is not None
        client = b""

        fd = self.sock.fileno()
        recvmmsg, sendmmsg = libc.recvmmsg, libc.sendmmsg
        recvmmsg.argtypes = [
            ctypes.c_int,
            ctypes.c_void_p,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_void_p,
        ]
        sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
        rptr, sptr = ctypes.addressof(rmsgs), ctypes.addressof(smsgs)
        respond = self.responder.respond
        responder = self.responder
        stop = self._stop
        moved: list[int] = []  # send slots whose address points at another slot's sender
        beat = BEAT

        while not stop.is_set():
            got = recvmmsg(fd, rptr, n, MSG_WAITFORONE, None)
            if got <= 0:
                err = ctypes.get_errno()
                if got < 0 and err not in _EAGAIN and err != _EINTR:
                    log.error("recvmmsg failed: %s", err)
                continue
            beat.count += got
            # Counted for /metrics once it is served (maybe after we started).
            stats = responder.stats
            tally = stats.tally(False) if stats is not None else None
            for k in moved:
                smsgs[k].msg_hdr.msg_name = nbase + k * NAME_SIZE
            moved.clear()
            out_count = 0
            for i in range(got):
                at = i * step
                size = words[len_at + at]
                words[namelen_at + at] = NAME_SIZE  # reset for the next receive
                base = i * BUF_SIZE
                if want_client:
                    # Slicing the ctypes buffer gives bytes at once (a memoryview
                    # slice and bytes() cost twice as much): the packed address.
                    at_name = i * NAME_SIZE
                    # (typeshed says a list; a c_char array's slice is bytes)
                    if nview[at_name + _FAMILY_BYTE] == _V4:
                        client = names[at_name + 4 : at_name + 8]  # type: ignore[assignment]
                    else:
                        client = names[at_name + 8 : at_name + 24]  # type: ignore[assignment]
                query: bytes = rbufs[base : base + size]  # type: ignore[assignment]
                try:
                    reply = respond(query, False, client, tally)
                except Exception:
                    log.exception("error answering a UDP query; dropped")
                    continue
                if reply is HANDOFF:
                    at_name = i * NAME_SIZE
                    self._hand_off(query, names.raw[at_name : at_name + NAME_SIZE])
                    continue
                if reply is None or len(reply) > BUF_SIZE:
                    continue
                if out_count != i:
                    # Earlier packets were dropped: point this send slot at the
                    # sender of packet i, and restore it before the next batch.
                    smsgs[out_count].msg_hdr.msg_name = nbase + i * NAME_SIZE
                    moved.append(out_count)
                ob = out_count * BUF_SIZE
                sview[ob : ob + len(reply)] = reply
                iov_words[iov_len_at + out_count * iov_step] = len(reply)
                out_count += 1
            if out_count:
                sendmmsg(fd, sptr, out_count, 0)
            if stats is not None and tally is not None:
                stats.fold_if_full(tally)


# sa_family is a native-endian 16-bit field; AF_INET and AF_INET6 fit its low byte.
_FAMILY_BYTE = 0 if sys.byteorder == "little" else 1
_V4 = int(socket.AF_INET)


def _address(sockaddr: bytes) -> tuple[str, int] | None:
    """(host, port) from a sockaddr_in or sockaddr_in6 as recvmmsg filled it in."""
    family = int.from_bytes(sockaddr[:2], sys.byteorder)
    port = int.from_bytes(sockaddr[2:4], "big")
    if family == socket.AF_INET:
        return socket.inet_ntop(socket.AF_INET, sockaddr[4:8]), port
    if family == socket.AF_INET6:
        return socket.inet_ntop(socket.AF_INET6, sockaddr[8:24]), port
    return None
