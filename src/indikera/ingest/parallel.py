"""Checking a large CSV file on several cores.

Reading and checking rows is the largest part of an import that runs in Python, and it is independent
row by row — except for two things a row is compared with: the file's registry and each organisation's
name and parent as first met. A file whose body holds no quote character can be cut at any line break, so:

1. ``cut`` splits the body into byte ranges at line breaks (one pass over the file, which also looks for
   quotes: a quoted field may hold a line break, and then the file is checked in one process);
2. each worker process reads and checks its range with a ``RowReader`` that starts as if it had met the
   file's registry on its first data row (peeked by the main process), and spools its rows to named files;
3. the main process adopts the workers' spools in file order and merges their problems.

The outcome is the sequential one, exactly. Anything that could differ — a part that met another
registry, an organisation whose name or parent differs between parts, a worker that failed — makes
``validate_in_parts`` return ``None`` and the caller checks the file again in one process.
"""

from __future__ import annotations

import os
import pickle
import selectors
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

from ..domain.indicators import Indicator
from ..domain.organisations import Organisation
from .problems import Problem, Problems
from .rows import RowContext, RowReader
from .sources import CsvBody, body_records
from .spool import FamilySpool, private_dir

MAX_WORKERS = 4
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Part:
    start: int  # byte offsets in the file; both on line boundaries
    end: int
    line_before: int  # the physical line just before ``start``


@dataclass
class PartResult:
    shown: list[Problem] = field(default_factory=list)
    total: int = 0
    rows: int = 0
    spool: dict = field(default_factory=dict)
    organisations: dict[str, Organisation] = field(default_factory=dict)
    seen: dict[str, tuple[Organisation, int]] = field(default_factory=dict)
    registry: tuple[str, str, int] | None = None
    error: str | None = None


@dataclass(frozen=True)
class _Job:
    body: CsvBody
    part: Part
    name: str
    indicators: dict[str, Indicator]
    decimal_comma: bool
    registry: tuple[str, str, int] | None
    directory: str
    parent: int  # the import's process id: if it dies, the worker stops


def workers_for(setting: int) -> int:
    return setting if setting > 0 else min(os.cpu_count() or 1, MAX_WORKERS)


def cut(body: CsvBody, workers: int, min_bytes: int) -> list[Part] | None:
    """Byte ranges of about equal size, cut after a line break; None when the file should not be split."""
    size = os.path.getsize(body.path)
    length = size - body.offset
    if workers < 2 or length < max(min_bytes, 1):
        return None
    targets = [body.offset + length * k // workers for k in range(1, workers)]
    cuts: list[tuple[int, int]] = []  # (offset, newlines between the body's start and it)
    newlines = 0
    pos = body.offset
    ti = 0
    with body.path.open("rb") as fh:
        fh.seek(body.offset)
        while block := fh.read(_BLOCK):
            if b'"' in block:
                return None
            search_from = 0
            while ti < len(targets) and targets[ti] < pos + len(block):
                idx = block.find(b"\n", max(targets[ti] - pos, search_from))
                if idx == -1:
                    targets[ti] = pos + len(block)  # no line break left in this block: look on in the next
                    break
                cuts.append((pos + idx + 1, newlines + block.count(b"\n", 0, idx + 1)))
                search_from = idx + 1
                ti += 1
            newlines += block.count(b"\n")
            pos += len(block)
    bounds = [(body.offset, 0), *((c, n) for c, n in cuts if c < size), (size, None)]
    parts = [Part(start, end, body.header_line + n) for (start, n), (end, _) in zip(bounds, bounds[1:]) if end > start]
    return parts if len(parts) > 1 else None


def first_registry(body: CsvBody, name: str, indicators: dict[str, Indicator],
                   decimal_comma: bool) -> tuple[str, str, int] | None:
    """The registry a sequential reader meets on the first data row, if that row names a valid one."""
    probe = Problems(name)
    reader = RowReader(RowContext(probe, indicators, decimal_comma))
    for line, cells in body_records(body, body.offset, os.path.getsize(body.path), body.header_line, probe, [0]):
        reader.read(line, cells)
        registry = reader.registry
        return registry if registry is not None and registry[2] == line else None
    return None


def validate_in_parts(body: CsvBody, parts: list[Part], name: str, indicators: dict[str, Indicator],
                      decimal_comma: bool, registry: tuple[str, str, int],
                      progress: Callable[[int], None] | None = None,
                      spool_root: str = "") -> tuple[list[PartResult], str] | None:
    """Run one worker process per part; (results in file order, their spool directory), or None.

    Workers are plain ``python -m indikera.ingest.parallel`` processes (not ``multiprocessing``, which would
    re-run the caller's main module): the job goes in on stdin, progress comes out on stdout as byte
    counts, the result is left in a file of the private spool directory."""
    directory = private_dir(spool_root)  # unmasked rows: private, and swept after a crash (``spool.sweep``)
    procs: list[subprocess.Popen] = []
    try:
        for i, part in enumerate(parts):
            job = _Job(body, part, name, indicators, decimal_comma, registry if i > 0 else None, directory, os.getpid())
            proc = subprocess.Popen([sys.executable, "-m", __name__, os.path.join(directory, f"part-{i}.result"),
                                     str(os.getpid())],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
            procs.append(proc)
            assert proc.stdin is not None
            proc.stdin.write(pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
            proc.stdin.close()
        done = [0] * len(parts)
        reported = 0
        with selectors.DefaultSelector() as sel:
            for i, proc in enumerate(procs):
                sel.register(proc.stdout, selectors.EVENT_READ, i)  # type: ignore[arg-type]
            while sel.get_map():
                for key, _ in sel.select(timeout=0.5):
                    line = key.fileobj.readline()  # type: ignore[union-attr]
                    if not line:
                        sel.unregister(key.fileobj)
                    elif line.strip().isdigit():
                        done[key.data] = int(line)
                if progress and sum(done) > reported:
                    progress(sum(done) - reported)
                    reported = sum(done)
        results = []
        for i, proc in enumerate(procs):
            proc.wait()
            try:
                with open(os.path.join(directory, f"part-{i}.result"), "rb") as fh:
                    results.append(pickle.load(fh))  # written by our own worker, in our private directory
            except (OSError, EOFError, pickle.UnpicklingError):
                results.append(PartResult(error=f"worker {i} ended without a result (exit code {proc.returncode})"))
    except BaseException:
        for proc in procs:
            proc.kill()
        shutil.rmtree(directory, ignore_errors=True)
        raise
    finally:
        for proc in procs:
            if proc.stdout is not None:
                proc.stdout.close()
    if any(r.error for r in results):
        shutil.rmtree(directory, ignore_errors=True)
        return None
    return results, directory


def consistent(results: list[PartResult], registry: tuple[str, str, int]) -> bool:
    """Would one sequential reader have seen the same registry and organisations in every part, and said
    the same about them? (An organisation that changes name inside a later part is reported against the
    line where that part first met it; one reader would name the file's first line.)"""
    if any(r.registry is not None and r.registry != registry for r in results):
        return False
    if any(p.code == "ORG_INCONSISTENT" for r in results[1:] for p in r.shown) or any(
            r.total > len(r.shown) for r in results[1:]):  # problems not shown could be such too
        return False
    seen: dict[str, Organisation] = {}
    for r in results:
        for key, (org, _) in r.seen.items():
            if seen.setdefault(key, org) != org:
                return False
    return True


def _work(job: _Job, result_path: str) -> None:
    """A worker process: check one part, spool its rows, leave a PartResult in ``result_path``."""
    parent = job.parent  # not os.getppid(): the import may have died before this process got here
    try:
        problems = Problems(job.name)
        reader = RowReader(RowContext(problems, job.indicators, job.decimal_comma))
        if job.registry is not None:
            reader.start_as_after(job.registry)
        spool = FamilySpool(directory=job.directory)
        read = [0]
        rows = 0
        for line, cells in body_records(job.body, job.part.start, job.part.end, job.part.line_before, problems, read):
            rows += 1
            row = reader.read(line, cells)
            if row is not None and not problems:
                spool.add_row(line, row, job.indicators)
            if rows % 4096 == 0:
                _exit_if_orphaned(parent, job.directory)
                print(read[0], flush=True)
        print(read[0], flush=True)
        result = PartResult(problems.shown, problems.total, rows, spool.export(), spool.organisations,
                            reader.seen_organisations, reader.registry)
    except BaseException as exc:  # reported to the main process, which then checks the file on its own
        result = PartResult(error=f"{type(exc).__name__}: {exc}")
    _exit_if_orphaned(parent, job.directory)
    # 0600 like the spool files beside it: the result names organisations and may carry row values
    with os.fdopen(os.open(result_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as fh:
        pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
    _exit_if_orphaned(parent, job.directory)  # killed while we wrote: still leave nothing behind


def _exit_if_orphaned(parent: int, directory: str) -> None:
    """The import that started us was killed: nobody will read our files, so remove them and stop."""
    if os.getppid() != parent:
        shutil.rmtree(directory, ignore_errors=True)
        os._exit(1)


if __name__ == "__main__":  # a worker started by validate_in_parts
    # Run the package's copy of this module, so that what is pickled names indikera.ingest.parallel, not __main__.
    from indikera.ingest import parallel as _module

    try:
        _job = pickle.load(sys.stdin.buffer)  # the job comes from our own parent process
    except EOFError:  # the import died before it sent the job
        _module._exit_if_orphaned(int(sys.argv[2]), os.path.dirname(sys.argv[1]))
        raise
    _module._work(_job, sys.argv[1])
