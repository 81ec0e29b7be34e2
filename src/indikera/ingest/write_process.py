"""The database writer process: owns the import's transaction while the importer prepares rows.

Storing rows costs about as much as preparing them (masking, hashing, diffing), and in one process the two
take turns. With the transaction in a second process (``python -m indikera.ingest.write_process``) they
overlap: the importer sends each chunk (pickled over the child's stdin) and goes on with the next while
the child writes it. Only the importer's ``finish`` makes the child commit; if the importer dies, the child
reads end-of-file, rolls back and exits. Errors come back as the child's last answer.

:class:`LocalSession` does the same in the importer's own process, for databases a second process cannot
open (in-memory SQLite).
"""

from __future__ import annotations

import pickle
import subprocess
import sys
from typing import Any

from sqlalchemy import Connection, Engine

from ..domain.errors import IndikeraError
from ..store.db import make_engine
from .transaction import Begun, Finished, WriteTransaction
from .writes import Job


class ImportWriteError(IndikeraError, RuntimeError):
    """The database refused the import's writes (the transaction was rolled back); ``detail`` says how."""

    def __init__(self, detail: object) -> None:
        self.detail = str(detail).splitlines()[0][:300] if str(detail) else "?"
        super().__init__("IMPORT_WRITE", detail=self.detail)


class LocalSession:
    def __init__(self, engine: Engine, set_based_checks: bool = True) -> None:
        self._t = WriteTransaction(engine, set_based_checks=set_based_checks)

    def begin(self, *args: Any) -> Begun:
        return self._t.begin(*args)

    def reader(self, engine: Engine) -> Connection:
        """Where the importer reads stored values: the transaction's own connection."""
        return self._t.conn

    def write(self, job: Job) -> None:
        self._t.write(job)

    def finish(self, *args: Any) -> Finished:
        return self._t.finish(*args)

    def abort(self) -> None:
        self._t.abort()


class ProcessSession:
    def __init__(self, engine: Engine, set_based_checks: bool = True) -> None:
        self._proc = subprocess.Popen([sys.executable, "-m", __name__], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL)
        # The URL (with any password) goes over the pipe, never on a command line others can read.
        self._send(("open", engine.url.render_as_string(hide_password=False), set_based_checks))
        self._read: Connection | None = None

    def _send(self, message: tuple) -> None:
        try:
            pickle.dump(message, self._proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)  # type: ignore[arg-type]
            self._proc.stdin.flush()  # type: ignore[union-attr]
        except (BrokenPipeError, OSError):
            self._answer()  # the child stopped: its last answer says why
            raise ImportWriteError("the database writer stopped") from None

    def _answer(self) -> Any:
        try:
            kind, value = pickle.load(self._proc.stdout)  # type: ignore[arg-type]  # our own child
        except (EOFError, pickle.UnpicklingError, OSError):
            raise ImportWriteError(f"the database writer ended unexpectedly (exit code {self._proc.wait()})") from None
        if kind == "error":
            raise ImportWriteError(value)
        return value

    def begin(self, *args: Any) -> Begun:
        self._send(("begin", *args))
        return self._answer()

    def reader(self, engine: Engine) -> Connection:
        """A second connection for the importer's reads. PostgreSQL: a REPEATABLE READ snapshot taken now,
        after the writer holds the import lock (every earlier import is in it). SQLite: the writer holds the
        write lock, so nothing else commits meanwhile. The rows this import writes are never read back."""
        conn = engine.connect()
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        conn.exec_driver_sql("SELECT 1")
        self._read = conn
        return conn

    def write(self, job: Job) -> None:
        self._send(("write", job))

    def finish(self, *args: Any) -> Finished:
        self._send(("finish", *args))
        try:
            return self._answer()
        finally:
            self._close()

    def abort(self) -> None:
        try:
            self._proc.stdin.close()  # type: ignore[union-attr]  # end of file: the child rolls back
        except OSError:
            pass
        try:
            self._proc.wait(30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._close()

    def _close(self) -> None:
        if self._read is not None:
            self._read.close()
            self._read = None
        for stream in (self._proc.stdin, self._proc.stdout):
            try:
                stream.close()  # type: ignore[union-attr]
            except OSError:
                pass
        self._proc.wait()


def session_for(engine: Engine, rows: int, min_rows: int, set_based_checks: bool = True) -> LocalSession | ProcessSession:
    """A writer process for imports of at least ``min_rows`` rows (starting one costs a few tenths of a
    second); the importer's own process for smaller ones and for in-memory SQLite."""
    database = engine.url.database
    if engine.dialect.name == "sqlite" and (not database or database == ":memory:" or database.startswith("file::memory")):
        return LocalSession(engine, set_based_checks)
    return ProcessSession(engine, set_based_checks) if rows >= min_rows else LocalSession(engine, set_based_checks)


def _serve() -> None:
    """The child: apply the importer's messages to one WriteTransaction until finish, abort or end of file."""
    inp, out = sys.stdin.buffer, sys.stdout.buffer

    def answer(kind: str, value: Any) -> None:
        pickle.dump((kind, value), out, protocol=pickle.HIGHEST_PROTOCOL)
        out.flush()

    t: WriteTransaction | None = None
    engine = None
    try:
        while True:
            try:
                message = pickle.load(inp)  # from our own parent, the importer
            except EOFError:
                break  # the importer aborted or died: roll back
            kind = message[0]
            if kind == "open":
                engine = make_engine(message[1])
                t = WriteTransaction(engine, set_based_checks=message[2])
            elif kind == "begin":
                answer("ok", t.begin(*message[1:]))  # type: ignore[union-attr]
            elif kind == "write":
                t.write(message[1])  # type: ignore[union-attr]
            elif kind == "finish":
                done, t = t, None
                answer("ok", done.finish(*message[1:]))  # type: ignore[union-attr]
                break
    except BaseException as exc:  # the importer re-raises it as ImportWriteError
        try:
            answer("error", f"{type(exc).__name__}: {exc}")
        except OSError:
            pass
    finally:
        if t is not None:
            t.abort()
        if engine is not None:
            engine.dispose()


if __name__ == "__main__":
    from indikera.ingest import write_process as _module  # pickled names must be the package's, not __main__'s

    _module._serve()
