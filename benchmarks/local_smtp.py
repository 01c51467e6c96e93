"""The benchmarks' SMTP server: aiosmtpd on a free loopback port, counting what it receives."""

import threading
import time
from collections import Counter
from typing import Any

from aiosmtpd.controller import Controller


class CountingHandler:
    """An SMTP server that keeps only a count of messages per recipient."""

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.first: float | None = None
        self.last: float | None = None

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.first = self.last = None

    @property
    def seconds(self) -> float:
        """From the first message received to the last (start-up of the senders left out)."""
        return (self.last or 0.0) - (self.first or 0.0)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.received.update(envelope.rcpt_tos)
            self.last = time.perf_counter()
            self.first = self.first or self.last
        return "250 Message accepted for delivery"


class FreePortController(Controller):
    """Serves on port 0 and records the port the system chose."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()
