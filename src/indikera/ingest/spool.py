"""Validated rows parked on disk, one temporary file per (indicator family, period), so memory stays bounded.

Masking and the database diff work one family (a parent indicator and its sex sub-measures) and period at
a time; only the largest such group is ever held in memory. Rows are flat tuples (see :data:`FIELDS`):
the write path turns them into database rows without rebuilding domain objects.

Spooled rows are *unmasked* (small counts included), so they live only in a private directory
(:func:`private_dir`: mode 0700, named ``indikera-spool-<pid>-…`` under ``import_spool_dir`` or TMPDIR),
removed on every exit path (``close``, or at interpreter exit), and, after a SIGKILL or a power cut, by
:func:`sweep` at the next import: a directory whose owning process is gone is removed.
"""

from __future__ import annotations

import os
import pickle
import shutil
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from datetime import date

from ..domain.indicators import Indicator
from ..domain.measurements import SourceSystem
from ..domain.organisations import Organisation
from ..domain.periods import Period
from ..domain.statistics import family_of

SPOOL_PREFIX = "indikera-spool-"
CHUNK = 2000  # rows per pickled chunk of one group
BUFFERED = 20_000  # rows held in memory over all groups before every buffer goes to disk

# One spooled row. Dates are ordinals, the organisation is its key (``organisations``), the source system
# an index into ``sources``.
FIELDS = (
    "line", "measure_id", "version", "start", "end", "org", "source", "stratum", "kind", "rate", "numerator",
    "denominator", "value", "population", "cohort", "reason_code", "ci_low", "ci_high", "standard_deviation",
    "coverage", "exclusions", "reference_interval",
)
(LINE, MID, VERSION, START, END, ORG, SOURCE, STRATUM, KIND, RATE, NUM, DEN, VALUE, POP, COHORT, REASON, CI_LOW, CI_HIGH,
 SD, COVERAGE, EXCLUSIONS, REFERENCE) = range(len(FIELDS))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def sweep(root: str = "") -> list[str]:
    """Remove this user's spool directories under ``root`` (default TMPDIR) whose importer has died."""
    root = root or tempfile.gettempdir()
    try:
        names = os.listdir(root)
    except OSError:
        return []
    removed = []
    for name in names:
        pid = name[len(SPOOL_PREFIX):].split("-", 1)[0] if name.startswith(SPOOL_PREFIX) else ""
        if not pid.isdigit() or _alive(int(pid)):
            continue
        path = os.path.join(root, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if os.path.stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid():
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


def private_dir(root: str = "") -> str:
    """A new directory only this user can enter (``mkdtemp``: mode 0700), named after this process."""
    root = root or tempfile.gettempdir()
    os.makedirs(root, mode=0o700, exist_ok=True)
    return tempfile.mkdtemp(prefix=f"{SPOOL_PREFIX}{os.getpid()}-", dir=root)


class FamilySpool:
    """Measurements as compact tuples in per-group temporary files; organisations once, by key."""

    def __init__(self, directory: str | None = None, *, root: str = "") -> None:
        self._directory = directory  # named files there (a worker's spool, adopted by the main process)
        self._root = root  # where this spool's own private directory goes (``private_dir``), made when needed
        self._private: str | None = None
        self._files: dict[tuple, object] = {}
        self._adopted: dict[tuple, list] = {}  # group → files of other spools, read before this one's own
        self._owned_dirs: dict[str, weakref.finalize] = {}  # removed on close, or at interpreter exit
        self._buffers: dict[tuple, list[tuple]] = {}
        self.counts: dict[tuple, int] = {}
        self.organisations: dict[str, Organisation] = {}  # key → organisation; rows name it by key
        self._org_keys: dict[int, str] = {}  # id(organisation) → key; organisations are shared objects
        self.sources: list[SourceSystem] = []
        self._dates: dict[int, date] = {}
        self._periods: dict[tuple[int, int], Period] = {}
        self._buffered = 0
        self._families: dict[str, str] = {}  # measure id → its family's root

    def _org(self, org: Organisation) -> str:
        key = self._org_keys.get(id(org))
        if key is None:
            key = self._org_keys[id(org)] = org.key
            self.organisations.setdefault(key, org)
        return key

    def add_row(self, line: int, row: tuple, indicators: Mapping[str, Indicator]) -> None:
        """Park a checked row (``rows.RowReader.read``) in its (indicator family, period) group."""
        family = self._families.get(row[0])
        if family is None:
            family = self._families[row[0]] = family_of(row[0], indicators)
        period = row[2]
        self.add((family, period.start.toordinal(), period.end.toordinal()), line, row)

    def add(self, family: tuple, line: int, row: tuple) -> None:
        """``row`` as ``rows.RowReader.read`` returns it, into the group ``family``."""
        buf = self._buffers.get(family)
        if buf is None:
            buf = self._buffers[family] = []
        mid, version, period, org, source, stratum, *values = row
        if not self.sources or self.sources[-1] is not source:
            self.sources.append(source)
        buf.append((line, mid, version, period.start.toordinal(), period.end.toordinal(), self._org(org),
                    len(self.sources) - 1, stratum, *values))
        self.counts[family] = self.counts.get(family, 0) + 1
        self._buffered += 1
        if len(buf) >= CHUNK:
            self._flush(family)
        elif self._buffered >= BUFFERED:  # many groups, each filling slowly: bound the total, not each
            for key in [k for k, b in self._buffers.items() if b]:
                self._flush(key)

    def _flush(self, family: tuple) -> None:
        buf = self._buffers.get(family)
        if not buf:
            return
        fh = self._files.get(family)
        if fh is None:
            if self._directory is None:
                if self._private is None:
                    self._private = private_dir(self._root)
                    self._own(self._private)
                fh = tempfile.SpooledTemporaryFile(max_size=64 * 1024, dir=self._private)  # many groups: keep each small
            else:
                fh = tempfile.NamedTemporaryFile(dir=self._directory, suffix=".spool", delete=False)
            self._files[family] = fh
        pickle.dump(buf, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self._buffered -= len(buf)
        self._buffers[family] = []

    def families(self) -> list[tuple]:
        return sorted(self.counts)

    def read(self, family: tuple) -> Iterator[tuple]:
        """The group's rows (flat tuples, :data:`FIELDS`) in file order: adopted parts first, in the order
        they were adopted, then this spool's own rows."""
        self._flush(family)
        for fh in (*self._adopted.get(family, ()), self._files.get(family)):
            if fh is None:
                continue
            fh.seek(0)  # each read starts again at the group's first chunk
            while True:
                try:
                    chunk = pickle.load(fh)  # our own data (this process or its workers): never untrusted input
                except EOFError:
                    break
                yield from chunk

    def export(self) -> dict[tuple, tuple[str, int]]:
        """Flush and close every group file; group → (file name, rows), for another process to adopt."""
        assert self._directory is not None, "only a spool with named files can be handed over"
        for family in list(self._buffers):
            self._flush(family)
        out = {}
        for family, fh in self._files.items():
            fh.close()
            out[family] = (fh.name, self.counts[family])
        self._files.clear()
        return out

    def adopt(self, exported: dict[tuple, tuple[str, int]], organisations: dict[str, Organisation],
              directory: str | None = None) -> None:
        """Take over another spool's rows (``export``); ``directory`` is removed on :meth:`close`."""
        for family, (name, count) in exported.items():
            self._adopted.setdefault(family, []).append(open(name, "rb"))  # noqa: SIM115 - closed in close()
            self.counts[family] = self.counts.get(family, 0) + count
        for key, org in organisations.items():
            self.organisations.setdefault(key, org)
        if directory is not None:
            self._own(directory)

    def _own(self, directory: str) -> None:
        if directory not in self._owned_dirs:
            self._owned_dirs[directory] = weakref.finalize(self, shutil.rmtree, directory, True)

    def date(self, ordinal: int) -> date:
        d = self._dates.get(ordinal)
        if d is None:
            d = self._dates[ordinal] = date.fromordinal(ordinal)
        return d

    def period(self, start: int, end: int) -> Period:
        """A Period from spooled ordinals (one object per distinct period)."""
        p = self._periods.get((start, end))
        if p is None:
            p = self._periods[(start, end)] = Period(self.date(start), self.date(end))
        return p

    def close(self) -> None:
        for fh in (*self._files.values(), *(f for files in self._adopted.values() for f in files)):
            fh.close()
        self._files.clear()
        self._adopted.clear()
        self._buffers.clear()
        for remove in self._owned_dirs.values():
            remove()
        self._owned_dirs.clear()
        self._private = None
