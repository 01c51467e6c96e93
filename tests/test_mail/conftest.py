"""SMTP servers that misbehave on cue, mail apps pointed at them, and helpers to queue mail."""

import asyncio
import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult
from flask import Flask

from placeevents.extensions import db
from placeevents.mail.models import OutboxMessage
from placeevents.mail.outbox import build_message, enqueue
from tests.conftest import Delivered, FreePortController

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class ScriptedHandler:
    """An aiosmtpd handler whose replies the test scripts.

    `rcpt_replies` maps an address to the reply its RCPT gets; `data_script` is consumed one
    entry per DATA: "250" accepts, "drop" accepts then hangs up (the reply is lost),
    "drop-first" hangs up without accepting, ("slow", seconds) accepts after a pause, any other
    string is the reply. `hold_at` makes the nth DATA wait until `release` is set.
    """

    received: list[Delivered] = field(default_factory=list)
    peers: list[Any] = field(default_factory=list)
    rcpts: list[str] = field(default_factory=list)
    rcpt_replies: dict[str, str] = field(default_factory=dict)
    data_script: list[Any] = field(default_factory=list)
    data_calls: int = 0
    hold_at: int | None = None
    holding: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            self.rcpts.append(address)
        reply = self.rcpt_replies.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    def _accept(self, session: Any, envelope: Any) -> None:
        with self.lock:
            self.received.append(
                Delivered(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
            self.peers.append(session.peer)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.data_calls += 1
            call = self.data_calls
            action = self.data_script.pop(0) if self.data_script else "250"
        if call == self.hold_at:
            self.holding.set()
            while not self.release.is_set():
                await asyncio.sleep(0.01)
        if isinstance(action, tuple) and action[0] == "slow":
            await asyncio.sleep(action[1])
            action = "250"
        if action == "drop-first":
            server.transport.close()
            return "421 closing"
        if action == "drop":
            self._accept(session, envelope)
            server.transport.close()
            return "250 accepted, but nobody hears it"
        if action == "250":
            self._accept(session, envelope)
            return "250 Message accepted"
        return str(action)

    def message_ids(self) -> Counter[str]:
        with self.lock:
            return Counter(d.message_id for d in self.received)


@dataclass
class ScriptedServer:
    host: str
    port: int
    handler: ScriptedHandler

    def config(self, **overrides: Any) -> dict[str, Any]:
        return {"MAIL_SERVER": self.host, "MAIL_PORT": self.port, **overrides}


@pytest.fixture
def scripted_smtp() -> Iterator[Callable[..., ScriptedServer]]:
    """Start aiosmtpd servers with a scripted handler, on free ports."""
    controllers: list[FreePortController] = []

    def start(**smtp_options: Any) -> ScriptedServer:
        handler = ScriptedHandler()
        controller = FreePortController(handler, hostname="127.0.0.1", port=0, **smtp_options)
        controller.start()
        controllers.append(controller)
        return ScriptedServer("127.0.0.1", controller.port, handler)

    yield start
    for controller in controllers:
        controller.handler.release.set()
        controller.stop()


def _refuse_login(*args: Any) -> AuthResult:
    return AuthResult(success=False, handled=False)


@pytest.fixture
def login_refusing_smtp(scripted_smtp: Callable[..., ScriptedServer]) -> ScriptedServer:
    """A server that offers AUTH and refuses every login with 535."""
    return scripted_smtp(auth_require_tls=False, authenticator=_refuse_login)


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def silent_server() -> Iterator[socket.socket]:
    """A listening socket that takes connections and never answers: SMTP would wait it out."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        yield listener


@pytest.fixture
def greeting_server() -> Iterator[Callable[[bytes], int]]:
    """A server that answers every connection with a fixed greeting, then hangs up."""
    sockets: list[socket.socket] = []

    def start(greeting: bytes) -> int:
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        sockets.append(listener)

        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    conn.sendall(greeting)

        threading.Thread(target=serve, daemon=True).start()
        return int(listener.getsockname()[1])

    yield start
    for listener in sockets:
        listener.close()


@pytest.fixture
def mail_app(make_app: Callable[..., Flask]) -> Iterator[Callable[..., Flask]]:
    """Make an app with these settings and push its context (popped after the test)."""
    contexts: list[Any] = []

    def factory(**config: Any) -> Flask:
        config.setdefault("MAIL_TIMEOUT", 2.0)
        app = make_app(**config)
        context = app.app_context()
        context.push()
        contexts.append(context)
        return app

    yield factory
    for context in reversed(contexts):
        db.session.remove()
        context.pop()


def queue_mail(count: int, *, prefix: str = "person", batch_key: str | None = None,
               recipients: list[str] | None = None) -> list[OutboxMessage]:
    """Queue and commit one message to each address; returns the rows."""
    addresses = recipients or [f"{prefix}{i}@example.org" for i in range(1, count + 1)]
    rows = [
        enqueue(
            build_message(to=to, subject=f"Hello {to}", text=f"Dear {to},\n\nHello.\n"),
            kind="test",
            batch_key=batch_key,
        )
        for to in addresses
    ]
    db.session.commit()
    return rows


def flask_process(app: Flask, server: ScriptedServer, *args: str,
                  **env: str) -> subprocess.Popen[str]:
    """Start `flask <args>` in a process of its own, on this app's database and this server."""
    # On SQLite this test's open transaction would hold the write lock the process needs.
    db.session.remove()
    environment = {
        **os.environ,
        "FLASK_APP": "placeevents",
        "PLACEEVENTS_ENV": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "MAIL_SERVER": server.host,
        "MAIL_PORT": str(server.port),
        "MAIL_TIMEOUT": "5",
        "WORKER_POLL_SECONDS": "0.2",
        **env,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "flask", *args],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
