"""One component's linear programme, kept in a HiGHS instance across its objectives.

The audit asks many questions of the same constraints (min and max of each hidden quantity). Passing the
model once and changing only the objective lets HiGHS start each solve from the last optimal basis: a few
pivots instead of a solve from scratch. Through ``scipy.optimize.linprog`` every bound was a new model, and
its per-call overhead (≈ 3 ms) made the demo registry's 25 000 bounds take over a minute.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

import numpy as np

CAP = 1e9  # every variable's upper bound: no LP is unbounded; a bound at the cap counts as infinite
_FIRST = threading.Lock()
_quiet = False


def _highs():
    """A silent HiGHS instance. The first one in a process prints HiGHS's banner to file descriptor 1 before
    any option can be set, which broke ``indikera import audit --json`` (stdout no longer JSON): that one is
    made with descriptor 1 pointed at /dev/null."""
    global _quiet
    import highspy

    with _FIRST:
        if _quiet:
            h = highspy.Highs()
        else:
            sys.stdout.flush()
            saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
            try:
                os.dup2(null, 1)
                h = highspy.Highs()
                ctypes.CDLL(None).fflush(None)  # the C library's buffer, while it still goes to /dev/null
            finally:
                os.dup2(saved, 1)
                os.close(saved)
                os.close(null)
            _quiet = True
    h.setOptionValue("output_flag", False)
    return h


class ComponentLP:
    """Constraints ``eq`` (rows = rhs) and ``ub`` (rows ≤ rhs) over ``n`` variables in [0, CAP]; rows are
    sparse (column → coefficient)."""

    def __init__(self, n: int, eq: list[dict[int, float]], eq_rhs: list[float], ub: list[dict[int, float]],
                 ub_rhs: list[float]) -> None:
        import highspy  # only when an audit has something to solve: imports that never mask stay light
        from scipy.sparse import coo_matrix

        self.n, self._highspy = n, highspy
        rows = [*eq, *ub]
        r, c, v = (zip(*((i, j, x) for i, row in enumerate(rows) for j, x in row.items())) if rows else ((), (), ()))
        self.a = coo_matrix((np.array(v, dtype=float), (np.array(r, dtype=np.int64), np.array(c, dtype=np.int64))),
                            shape=(len(rows), n)).tocsc()
        inf = highspy.kHighsInf
        self.lower = np.array([*eq_rhs, *([-inf] * len(ub))], dtype=float)
        self.upper = np.array([*eq_rhs, *ub_rhs], dtype=float)
        self.n_eq = len(eq)
        h = _highs()
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, len(rows)
        lp.col_cost_, lp.col_lower_, lp.col_upper_ = np.zeros(n), np.zeros(n), np.full(n, CAP)
        lp.row_lower_, lp.row_upper_ = self.lower, self.upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = self.a.indptr, self.a.indices, self.a.data
        h.passModel(lp)
        self._h = h
        self._all = np.arange(n, dtype=np.int32)  # every column's cost changes with each objective
        self.solves = 0

    def optimum(self, objective: dict[int, float], sense: float) -> np.ndarray | None:
        """A solution minimising ``sense`` × objective (sense −1: maximising), or None when infeasible."""
        costs = np.zeros(self.n)
        for j, coef in objective.items():
            costs[j] = sense * coef
        return self.optimum_of(costs)

    def optimum_of(self, costs: np.ndarray) -> np.ndarray | None:
        self._h.changeColsCost(self.n, self._all, costs)
        self._h.run()
        self.solves += 1
        if self._h.getModelStatus() != self._highspy.HighsModelStatus.kOptimal:
            return None
        return np.array(self._h.getSolution().col_value)

    def feasible(self, x: np.ndarray, tol: float = 1e-6) -> bool:
        if (x < -tol).any():
            return False
        ax = self.a @ x
        return bool((ax[: self.n_eq] >= self.lower[: self.n_eq] - tol).all() and (ax <= self.upper + tol).all())
