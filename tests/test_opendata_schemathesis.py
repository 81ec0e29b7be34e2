"""Schemathesis against the API's own OpenAPI document, in process (ASGI), on a small open registry
(the demo registry would make every unfiltered CSV example stream all its rows).

Every operation gets generated parameters; each answer must be a documented status with a documented
content type and body schema, and never a server error. (The operations are driven from one test rather
than with ``schemathesis.pytest.from_fixture``, which does not run on this pytest version.)
"""

from __future__ import annotations

import pytest
import schemathesis
from schemathesis.checks import positive_data_acceptance
from hypothesis import HealthCheck, given, settings

from indikera.app import create_app
from indikera.config import Settings

from indikera.store import db as store_db

from .test_opendata_visibility import IDS, _apply, _build

pytestmark = pytest.mark.slow  # every operation of the OpenAPI document, generated requests


def test_api_conforms_to_its_openapi(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'small.db'}"
    store_db.upgrade(url)
    registry = _build(url)
    _apply(registry, {"wide": dict.fromkeys(IDS, "open"), "narrow": dict.fromkeys(IDS), "batches": ("approved", "approved")})
    registry["engine"].dispose()
    app = create_app(Settings(database_url=url))
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/indicators", "/indicators/{measureId}", "/results", "/results.csv",
                                              "/organisations", "/changes"}
    for op in operations:
        @given(case=op.as_strategy())
        @settings(max_examples=10, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            # Opaque cursors and ids that exist only in the data cannot be stated in a schema, so a
            # schema-valid request may rightly get a 400: positive_data_acceptance is replaced by a stricter
            # own one — a schema-valid request is answered 2xx, or 400 only for what a schema cannot say.
            response = case.call_and_validate(excluded_checks=[positive_data_acceptance])
            _accepted_unless_data_dependent(case, response)

        check()
    app.state.ctx.engine.dispose()


# 400s a schema cannot prevent (issue #15): (parameter, words of the English detail)
DATA_DEPENDENT = (
    ("cursor", ""),  # opaque, signed: only our own cursors are valid
    ("measureId", "There is no open indicator"),  # exists only in the data
    ("measureId", "rows do not fit in a sheet"),
    ("periodFrom", "periodFrom is after periodTo"),  # two parameters that exclude each other
    ("period", "cannot be combined"),
    ("sort", "cannot be combined"),
    ("delimiter", "excel=true sets the delimiter"),
)


def _accepted_unless_data_dependent(case, response) -> None:
    if response.status_code < 400 or response.status_code == 404:
        return
    problem = response.json()
    assert response.status_code == 400, (case.path, case.query, response.status_code, problem)
    ok = any(problem.get("parameter") == name and words in problem.get("detail_en", "") for name, words in DATA_DEPENDENT)
    assert ok, f"the document allows what the server refuses: {case.path} {case.query} → {problem}"
