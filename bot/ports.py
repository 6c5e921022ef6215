"""Free loopback ports for servers started by the evaluation, the benchmarks and the tests.

Binding port 0 and closing the socket gives a port that is free now, and the kernel may give the same one again to
the next caller: the reply evaluation once got one port for both the Rasa server and the web app (their servers
share a port when both set SO_REUSEPORT), and the REST webhook answered 404. A port is handed out once per process.
"""

from __future__ import annotations

import socket
import threading

_handed_out: set[int] = set()
_lock = threading.Lock()


def free_port() -> int:
    """A loopback port free now and not handed out before by this process."""
    with _lock:
        while True:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            if port not in _handed_out:
                _handed_out.add(port)
                return port
