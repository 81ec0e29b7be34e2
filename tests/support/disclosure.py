"""The attacker's side of the masking tests: which hidden cells do the published ones determine?"""

from __future__ import annotations

import numpy as np


def pinned(hidden: list, rels) -> list:
    """Hidden cells whose value the published cells determine through ``rels`` = [(total, parts)]: a hidden
    cell is pinned when its unit vector lies in the row space of the relations restricted to the hidden
    cells (numpy rank test, independent of the code under test)."""
    col = {k: i for i, k in enumerate(hidden)}
    rows = []
    for total, parts in rels:
        row = np.zeros(len(hidden))
        for key, coef in ((total, -1.0), *((p, 1.0) for p in parts)):
            if key in col:
                row[col[key]] += coef
        if row.any():
            rows.append(row)
    if not rows:
        return list(hidden)
    a = np.array(rows)
    rank = np.linalg.matrix_rank(a)
    out = []
    for k, i in col.items():
        e = np.zeros(len(hidden))
        e[i] = 1
        if np.linalg.matrix_rank(np.vstack([a, e])) == rank:
            out.append(k)
    return out
