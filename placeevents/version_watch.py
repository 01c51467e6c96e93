"""The versions of what pages show, heard from PostgreSQL rather than read for every request.

Each page this process keeps (`caching`) and each feed poll it answers first needs the version
row. On SQLite reading it is a read of a local file. On PostgreSQL it is a round trip to the
server, which is most of what a kept page or a feed's 304 costs. So on PostgreSQL the row tells
whoever listens when it moves: a trigger on `public_version` sends a NOTIFY on `CHANNEL`, which
the server delivers when the transaction that moved it commits (`NOTIFY_DDL`, also in migration
0013). Each process has one thread that listens on a connection of its own (as the worker
listens for queued mail, `worker.OutboxListener`) and keeps the versions it last read.
`known()` gives them with no round trip. When it gives None, the caller reads the row as
before and `offer`s what it read.

The versions are dropped, and read again:
- when the thread hears that the row moved;
- when this process commits a change that moves it (`moved_here`, called by `caching` once
  the commit is done), so this process sees its own change before its notice comes back;
- when the listening connection fails; the thread connects again, and listens before any read
  is kept;
- every `HEARTBEAT` seconds, whatever was heard. A connection that has gone silent without
  failing (a server lost on the network) can therefore hide a change for at most that long.
A read is kept only if nothing was dropped while it ran (a generation count), so a read from
before a notice cannot outlive the notice. A change committed by another process shows here
once its notice has arrived and the thread has run: within milliseconds of the commit.

If the trigger is missing (a database whose schema did not come from this version), or the
listening connection does not hear its own notice (a pooler in transaction mode between the app
and PostgreSQL), nothing is kept and every caller reads, as before.
"""

import logging
import os
import threading
from typing import Any

from sqlalchemy import Engine

log = logging.getLogger(__name__)

CHANNEL = "placeevents_versions"
TRIGGER = "public_version_moved"
# The trigger, for a schema made from the models (tests, `db create_all`); migration 0013
# holds the same statements for a schema made by migrations.
NOTIFY_DDL = (
    "CREATE OR REPLACE FUNCTION placeevents_versions_moved() RETURNS trigger "
    f"LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_notify('{CHANNEL}', ''); RETURN NULL; END $$",
    f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON public_version "
    "FOR EACH STATEMENT EXECUTE FUNCTION placeevents_versions_moved()",
)
# Seconds between reads the thread makes without hearing anything; between its tries to
# connect again after its connection failed; and between its tries when it could not hear.
HEARTBEAT = 1.0
RETRY = 1.0
CANNOT_HEAR_RETRY = 60.0
# Seconds to wait for the listening connection's own notice, which shows notices come through.
ECHO_WAIT = 5.0

Versions = tuple[int, int]


class VersionWatch:
    """The versions of one database as this process last heard them (see the module's text)."""

    def __init__(self, engine: Engine, read_sql: str, heartbeat: float = HEARTBEAT) -> None:
        self._engine = engine
        self._read_sql = read_sql
        self._heartbeat = heartbeat
        self._lock = threading.Lock()
        self._known: Versions | None = None
        # Moves whenever what was known is dropped, and whenever listening starts or stops.
        self._generation = 0
        self._stop = threading.Event()
        # The server process listening for this one, while it listens.
        self.connected_pid: int | None = None
        self.cannot_hear: str | None = None  # why, when connected but unable to hear
        self._thread = threading.Thread(
            target=self._run, name="placeevents-version-watch", daemon=True
        )
        self._thread.start()

    def known(self) -> Versions | None:
        """The versions, heard to be current; None when the caller must read them."""
        return self._known

    def generation(self) -> int:
        """Take before reading the row; give back to `offer` with what was read."""
        return self._generation

    def offer(self, found: Versions, generation: int) -> None:
        """Keep versions a caller read, if the thread listened all along and nothing was
        dropped since `generation` was taken (else the read may be older than a notice)."""
        with self._lock:
            if self.connected_pid is not None and self._generation == generation:
                self._known = found

    def moved(self) -> None:
        """Drop what is known: the row has moved, or may have."""
        with self._lock:
            self._generation += 1
            self._known = None

    def stop(self) -> None:
        """Stop listening once the thread next wakes (a notice, or the heartbeat)."""
        self._stop.set()

    def listening(self) -> bool:
        return self.connected_pid is not None

    def _set_listening(self, pid: int | None) -> None:
        with self._lock:
            self.connected_pid = pid
            self._generation += 1
            self._known = None

    def _run(self) -> None:
        failing = False
        while not self._stop.is_set():
            pause = RETRY
            try:
                if not self._listen():
                    pause = CANNOT_HEAR_RETRY
                failing = False
            except Exception:  # the connection failed, or could not be made: read meanwhile
                if not failing:  # once for each outage
                    log.warning("not hearing the page versions; reading them", exc_info=True)
                failing = True
            finally:
                self._set_listening(None)
            self._stop.wait(pause)

    def _listen(self) -> bool:
        """Listen until stopped or the connection fails; False if it cannot hear notices."""
        pooled = self._engine.raw_connection()
        pooled.detach()  # this thread's own for as long as it listens
        connection: Any = pooled.dbapi_connection
        try:
            connection.autocommit = True
            found = connection.execute(
                "SELECT 1 FROM pg_trigger WHERE tgname = %s", (TRIGGER,)
            ).fetchone()
            connection.execute(f"LISTEN {CHANNEL}")
            # Its own notice must come back: behind a pooler in transaction mode it would not,
            # and nor would anyone else's.
            connection.execute(f"NOTIFY {CHANNEL}, 'listening'")
            echo = any(True for _ in connection.notifies(timeout=ECHO_WAIT, stop_after=1))
            self.cannot_hear = (
                f"no {TRIGGER} trigger" if found is None
                else None if echo
                else "this connection's own notice did not come back"
            )  # fmt: skip
            if self.cannot_hear is not None:
                log.warning("the page versions are read, not heard: %s", self.cannot_hear)
                return False
            self._set_listening(connection.info.backend_pid)
            while not self._stop.is_set():
                generation = self.generation()
                row = connection.execute(self._read_sql).fetchone()
                if row is not None:
                    self.offer((int(row[0]), int(row[1])), generation)
                # Wait for a notice (one received during the read is given at once), or for the
                # heartbeat; either way drop what is known before reading again.
                for _ in connection.notifies(timeout=self._heartbeat, stop_after=1):
                    pass
                self.moved()
            return True
        finally:
            connection.close()


_watches: dict[Engine, tuple[int, VersionWatch]] = {}
_watches_lock = threading.Lock()


def watch_of(engine: Engine, read_sql: str) -> VersionWatch | None:
    """This process's watch on `engine`'s database, started on first use (after a fork, the
    child starts its own); None for SQLite, whose reads are local."""
    if engine.dialect.name != "postgresql":
        return None
    pid = os.getpid()
    mine = _watches.get(engine)
    if mine is None or mine[0] != pid:
        with _watches_lock:
            mine = _watches.get(engine)
            if mine is None or mine[0] != pid:
                mine = _watches[engine] = (pid, VersionWatch(engine, read_sql))
    return mine[1]


def watches_here() -> list[VersionWatch]:
    """This process's watches (one per PostgreSQL database it reads)."""
    pid = os.getpid()
    return [watch for owner, watch in list(_watches.values()) if owner == pid]


def moved_here() -> None:
    """This process committed a change to the version row: drop what its watches know."""
    for watch in watches_here():
        watch.moved()
