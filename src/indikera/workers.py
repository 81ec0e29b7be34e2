"""``indikera serve --workers N``: N worker processes on one listening socket, each a whole app (issue #19).

uvicorn's supervisor (``uvicorn.supervisors.Multiprocess``) binds the socket once and starts each worker
with ``spawn``, so what a worker needs crosses as picklable values: the settings, the TLS file paths and
the HTTP limits. Each worker then builds its own app, database engines (a pool per worker; SQLite in WAL
mode with a busy timeout, ``store.db``) and TLS context: it verifies client certificates itself, reloads
the CRL itself, and hands the verified certificate to the app as one process does (``server``).

Caches stay exact across workers: each is keyed on the database's data version, read on every request
(``caches``), so a write through any process (or ``indikera import``) is seen by the next request to
every worker. The supervisor pings its workers and restarts one that dies or hangs. On SIGTERM it sends
SIGTERM to each: a worker stops accepting, lets in-flight requests finish for at most
``http_shutdown_timeout`` seconds, and exits; then the supervisor exits 0. SIGHUP replaces the workers one
by one (a new one is ready before an old one stops); SIGTTIN / SIGTTOU add or remove one.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess

from .access_log import log_config
from .app import create_app
from .config import Settings
from .context import AppContext
from .http_limits import HTTPLimits, protocol_for
from .server import TLSOptions, check_identity_sources, ssl_context

log = logging.getLogger("indikera.workers")
STARTUP_LIMIT = 300.0  # seconds a starting worker may take to import the app before it counts as hung


def worker_app(settings: Settings):
    """The app factory a worker calls after it has started: its own engines and caches."""
    return create_app(ctx=AppContext.from_settings(settings))


@lru_cache(maxsize=8)
def _protocol_class(limits: HTTPLimits) -> type:
    return protocol_for(limits)


def guarded_protocol(limits: HTTPLimits, *args: Any, **kwargs: Any):
    """uvicorn's protocol factory in a worker: ``http_limits.GuardedHTTPProtocol`` with ``limits`` (a class
    made at run time cannot be pickled; this function and the limits can)."""
    return _protocol_class(limits)(*args, **kwargs)


@dataclass(frozen=True)
class TLSContextFactory:
    """uvicorn's ``ssl_context_factory`` in a worker: the same TLS context ``serve`` builds in one process."""

    tls: TLSOptions

    def __call__(self, _config: Any, _default: Any):
        return ssl_context(self.tls)


class Supervisor(Multiprocess):
    """uvicorn's supervisor, with two changes: a starting worker is given ``STARTUP_LIMIT`` seconds to import
    the app before it must answer pings (uvicorn's ping timeout killed slow starters in a loop on a busy
    machine), and the listening socket is closed at once on SIGTERM."""

    def keep_subprocess_alive(self) -> None:
        starting = getattr(self, "_starting", None)
        if starting is None:
            starting = self._starting = {}  # process → (first seen, ping sent)
        now = time.monotonic()
        waiting = []
        for process in self.processes:
            if process in getattr(self, "_started", ()) or not process.process.is_alive():
                continue
            first, sent = starting.setdefault(process, (now, False))
            try:
                if not sent:
                    process.parent_conn.send(b"ping")
                    starting[process] = (first, True)
                answered = process.parent_conn.poll(0)
                if answered:
                    process.parent_conn.recv()
            except (OSError, EOFError):
                answered = False
            if answered:
                self._started = {*getattr(self, "_started", ()), process}
                starting.pop(process, None)
            elif now - first < STARTUP_LIMIT:
                waiting.append(process)
        checked = [p for p in self.processes if p not in waiting]
        everyone, self.processes = self.processes, list(checked)
        try:
            super().keep_subprocess_alive()  # pings (and replaces) the started ones, and the dead
        finally:
            replaced = {id(old): new for old, new in zip(checked, self.processes)}
            self.processes = [replaced.get(id(p), p) for p in everyone]

    def terminate_all(self) -> None:
        """On SIGTERM/SIGINT: close the supervisor's copy of the listening socket first. Once the workers close
        theirs too, a new connection is refused at once (nginx or a load balancer tries another) instead of
        waiting in a backlog that nobody accepts from any more."""
        for sock in self.sockets:
            sock.close()
        super().terminate_all()


def worker_config(settings: Settings, host: str, port: int, tls: TLSOptions | None, workers: int,
                  log_level: str = "info") -> uvicorn.Config:
    options: dict[str, Any] = {"http": partial(guarded_protocol, HTTPLimits.from_settings(settings)), "log_config": log_config()}
    if tls is not None:
        # ssl_certfile only labels the server https in uvicorn's log; the factory builds the context.
        options.update(ssl_certfile=str(tls.cert), ssl_context_factory=TLSContextFactory(tls))
    return uvicorn.Config(
        partial(worker_app, settings), factory=True, host=host, port=port, workers=workers, log_level=log_level,
        proxy_headers=False,  # the client address must be the TCP peer: trusted_proxies is checked against it
        timeout_graceful_shutdown=settings.http_shutdown_timeout,
        # A starting worker imports the whole app before it answers the supervisor's ping (seconds on a busy
        # machine); uvicorn's 5 s would kill and restart it in a loop. A hung worker is still replaced.
        timeout_worker_healthcheck=30, **options,
    )


def run_workers(settings: Settings, host: str, port: int, tls: TLSOptions | None, workers: int,
                log_level: str = "info") -> int:
    """Serve with ``workers`` processes until SIGTERM/SIGINT; the exit status (1: a worker could not start)."""
    check_identity_sources(settings, tls)
    if tls is not None:
        ssl_context(tls)  # a bad file is reported here, once, before any worker starts
    config = worker_config(settings, host, port, tls, workers, log_level)
    sock = config.bind_socket()
    supervisor = Supervisor(config, sockets=[sock])
    try:
        supervisor.run()
    finally:
        sock.close()
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        log.error("en arbetsprocess kunde inte starta (a worker process could not start)")
        return 1
    return 0


__all__ = ["TLSContextFactory", "guarded_protocol", "run_workers", "worker_app", "worker_config"]
