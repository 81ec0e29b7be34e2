"""A real uvicorn server on a free loopback port, in a background thread, for tests that need sockets."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(app, *, port: int | None = None, **uvicorn_kwargs) -> Iterator[str]:
    """Serve ``app`` until the block ends; yields the base URL (http or https)."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off", **uvicorn_kwargs)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    scheme = "https" if uvicorn_kwargs.get("ssl_certfile") else "http"
    try:
        yield f"{scheme}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def demo_server(demo_template, directory) -> Iterator[str]:
    """A server on a private copy of the demo registry in ``directory`` (read-only tests of a module share one)."""
    import shutil

    from indikera.app import create_app
    from indikera.config import Settings
    from indikera.context import AppContext

    path = directory / "demo.db"
    shutil.copy(demo_template, path)
    ctx = AppContext.from_settings(Settings(database_url=f"sqlite:///{path}"))
    try:
        with running(create_app(ctx=ctx)) as url:
            yield url
    finally:
        ctx.engine.dispose()
