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
import socket
import sys
import time
from dataclasses import dataclass
from functools import lru_cache, partial
from typing import Any

import uvicorn
from uvicorn.config import STARTUP_FAILURE
from uvicorn.supervisors.multiprocess import Multiprocess, Process

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


def reuse_port_available() -> bool:
    """Linux spreads new connections over the sockets of one SO_REUSEPORT group; elsewhere the option either does
    not exist or does not balance (BSD, macOS: the last socket bound takes them all)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def bind_group(config: uvicorn.Config, count: int) -> list[socket.socket]:
    """``count`` listening sockets on the same address, each with SO_REUSEPORT, so that the kernel hashes each new
    connection to one of them. One shared socket let whichever worker woke first accept a whole burst: 32
    connections opened together went 32 : 0 or 29 : 3 to two workers, and the second worker idled
    (bench/README.md). Port 0 binds the first socket and gives the others its port."""
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    out: list[socket.socket] = []
    port = config.port
    for _ in range(count):
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind((config.host, port))
            sock.listen(config.backlog)
            sock.set_inheritable(True)
        except OSError:
            sock.close()
            for other in out:
                other.close()
            raise
        port = sock.getsockname()[1]
        out.append(sock)
    return out


class Supervisor(Multiprocess):
    """uvicorn's supervisor, with three changes: a starting worker is given ``STARTUP_LIMIT`` seconds to import
    the app before it must answer pings (uvicorn's ping timeout killed slow starters in a loop on a busy
    machine); the listening sockets are closed at once on SIGTERM; and with ``group`` (one SO_REUSEPORT socket
    per worker, :func:`bind_group`) each worker listens on its own socket of the group. The supervisor keeps
    every socket open, so a worker that dies or is replaced (SIGHUP) hands its socket, and the connections
    waiting in it, to its successor."""

    def __init__(self, config: uvicorn.Config, sockets: list[socket.socket], group: list[socket.socket] | None = None) -> None:
        super().__init__(config, sockets=sockets)
        self._group = group
        self._own: dict[int, socket.socket] = {}  # id(process) → its socket of the group

    def _process(self, slot: socket.socket | None = None) -> Process:
        if self._group is None:
            return Process(self.config, self.sockets)
        if slot is None:  # a new slot (start, SIGTTIN): the first socket of the group no live process holds
            held = {id(s) for s in self._own.values()}
            slot = next((s for s in self._group if id(s) not in held), None)
            if slot is None:
                slot = bind_group(self.config, 1)[0]
                self._group.append(slot)
        process = Process(self.config, [slot])
        self._own[id(process)] = slot
        return process

    def _successor(self, old: Process) -> Process:
        slot = self._own.pop(id(old), None)
        return self._process(slot)

    def init_processes(self) -> None:
        for _ in range(self.processes_num):
            process = self._process()
            process.start()
            self.processes.append(process)

    def restart_all(self) -> None:
        """As uvicorn's: each replacement is ready before the worker it replaces stops; it listens on that
        worker's socket of the group."""
        for idx, old in enumerate(self.processes):
            if self.should_exit.is_set():
                return
            new = self._process(self._own.get(id(old)))
            new.start()
            if not new.wait_until_ready(self.config.timeout_worker_healthcheck, self.should_exit):
                self._own.pop(id(new), None)
                new.kill()
                new.join()
                if not self.should_exit.is_set():
                    log.error("a new worker [%s] was not ready in time; keeping [%s] and stopping the restart", new.pid, old.pid)
                return
            self._own.pop(id(old), None)
            old.terminate()
            old.join()
            self.processes[idx] = new

    def handle_ttin(self) -> None:
        log.info("SIGTTIN: one more worker")
        self.processes_num += 1
        process = self._process()
        process.start()
        self.processes.append(process)

    def handle_ttou(self) -> None:
        if self.processes_num <= 1:
            log.info("SIGTTOU: already one worker")
            return
        log.info("SIGTTOU: one worker fewer")
        self.processes_num -= 1
        process = self.processes.pop()
        slot = self._own.pop(id(process), None)
        process.terminate()
        process.join()
        if slot is not None and self._group is not None and len(self._group) > 1:
            self._group.remove(slot)  # its waiting connections are reset: the kernel hashes to the others now
            slot.close()

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
            self._replace_dead()  # pings (and replaces) the started ones, and the dead
        finally:
            replaced = {id(old): new for old, new in zip(checked, self.processes)}
            self.processes = [replaced.get(id(p), p) for p in everyone]

    def _replace_dead(self) -> None:
        """uvicorn's ``keep_subprocess_alive``, with each replacement on its predecessor's socket."""
        if self.should_exit.is_set():
            return
        for idx, process in enumerate(self.processes):
            if process.is_alive(timeout=self.config.timeout_worker_healthcheck):
                continue
            process.kill()  # hung: kill it
            process.join()
            if process.exitcode == STARTUP_FAILURE:  # the app, TLS or socket is broken: every restart would fail
                log.error("worker [%s] failed to start; stopping", process.pid)
                self.should_exit.set()
                return
            if self.should_exit.is_set():
                return
            log.info("worker [%s] died; starting another", process.pid)
            new = self._successor(process)
            new.start()
            self.processes[idx] = new

    def terminate_all(self) -> None:
        """On SIGTERM/SIGINT: close the supervisor's copy of the listening socket first. Once the workers close
        theirs too, a new connection is refused at once (nginx or a load balancer tries another) instead of
        waiting in a backlog that nobody accepts from any more."""
        for sock in [*self.sockets, *(self._group or ())]:
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
    group = bind_group(config, workers) if reuse_port_available() else None
    if group:  # the line uvicorn's bind_socket logs, which operators and scripts wait for
        logging.getLogger("uvicorn.error").info(
            "Uvicorn running on %s://%s:%d (Press CTRL+C to quit)", "https" if tls else "http", config.host,
            group[0].getsockname()[1])
    socks = group[:1] if group else [config.bind_socket()]
    supervisor = Supervisor(config, sockets=socks, group=group)
    try:
        supervisor.run()
    finally:
        for sock in [*socks, *(group or ())]:
            sock.close()
    if any(p.exitcode == STARTUP_FAILURE for p in supervisor.processes):
        log.error("en arbetsprocess kunde inte starta (a worker process could not start)")
        return 1
    return 0


__all__ = ["TLSContextFactory", "guarded_protocol", "run_workers", "worker_app", "worker_config"]
