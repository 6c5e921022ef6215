"""Ports handed out for test and evaluation servers are never handed out twice, even when the kernel repeats one."""

from __future__ import annotations

import socket

from bot import ports


def test_a_port_the_kernel_gives_again_is_not_handed_out_again(monkeypatch):
    given = iter([41001, 41001, 41001, 41002])

    class RepeatingSocket:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def bind(self, address):
            self.port = next(given)

        def getsockname(self):
            return ("127.0.0.1", self.port)

    monkeypatch.setattr(ports, "_handed_out", set())
    monkeypatch.setattr(ports.socket, "socket", RepeatingSocket)
    assert [ports.free_port(), ports.free_port()] == [41001, 41002]


def test_the_ports_are_free_and_distinct():
    handed = [ports.free_port() for _ in range(50)]
    assert len(set(handed)) == 50
    with socket.socket() as s:
        s.bind(("127.0.0.1", handed[-1]))
