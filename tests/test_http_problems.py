"""One error shape: every failure of every route in both OpenAPI documents is RFC 9457 problem+json.

The walk reads ``/admin/api/v1/openapi.json`` and ``/api/v1/openapi.json`` and, per operation, provokes what it
can: no admin (401), an unknown or malformed id (404 / 400 / 422), a bad body (422), a wrong method (405), an
unknown sub-path (404), a bad query parameter (400 / 422) and an oversize body (413). Each answer must have
the status expected, ``application/problem+json``, the members ``type/title/status/code/detail/detail_en``, a
``code`` from the message catalogue (so its texts exist in both languages) and a Swedish ``detail`` that differs
from the English ``detail_en``.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from indikera.access.admin_auth import AdminAuthError
from indikera.access.agreements import AgreementError
from indikera.app import create_app
from indikera.catalog import jsonformat
from indikera.config import Settings
from indikera.domain.errors import DomainError, IndikeraError
from indikera.domain.messages import MESSAGES, placeholders
from indikera.http_problems import TYPE_BASE, ProblemError
from indikera.publish.admin_routes import MAX_JSON_BODY
from indikera.publish.states import PublishError

TOKEN = "tok-problems-4c1e9a"
ADMIN = "/admin/api/v1"
OPEN = "/api/v1"
METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE")
# Ids that exist in the demo registry, and ids that do not.
EXISTING = {"measure_id": "10001", "measureId": "10001", "batch_id": "1", "agreement_id": "1", "version": "1.0", "action": "submit"}
MISSING = {"measure_id": "99999", "measureId": "99999", "batch_id": "999999", "agreement_id": "999999", "version": "9.9", "action": "submit"}


@pytest.fixture(scope="module")
def client(demo_template, tmp_path_factory) -> Iterator[TestClient]:
    path = tmp_path_factory.mktemp("problems") / "demo.db"
    shutil.copy(demo_template, path)
    app = create_app(Settings(database_url=f"sqlite:///{path}", admin_tokens=(f"anna:{TOKEN}",)))
    with TestClient(app) as c:
        yield c
    app.state.ctx.engine.dispose()


AUTH = {"Authorization": f"Bearer {TOKEN}"}


def assert_problem(r, status: int) -> dict:
    where = f"{r.request.method} {r.request.url.path}?{r.request.url.query.decode()}"
    assert r.status_code == status, (where, r.status_code, r.text[:400])
    assert r.headers["content-type"] == "application/problem+json", (where, r.headers["content-type"])
    body = r.json()
    for member in ("type", "title", "status", "code", "detail", "detail_en"):
        assert body.get(member), (where, member, body)
    assert body["status"] == status
    assert body["code"] in MESSAGES, (where, body["code"])
    assert body["type"] == TYPE_BASE + body["code"].lower().replace("_", "-")
    assert body["detail"] != body["detail_en"], (where, body)
    assert "Traceback" not in r.text and 'File "' not in r.text
    return body


def operations(client: TestClient, prefix: str) -> list[tuple[str, str, dict]]:
    doc = client.get(f"{prefix}/openapi.json").json()
    ops = [(method.upper(), path, op) for path, item in doc["paths"].items() for method, op in item.items()]
    assert ops
    return ops


def concrete(path: str, ids: dict[str, str]) -> str:
    for name, value in ids.items():
        path = path.replace("{" + name + "}", value)
    assert "{" not in path, path
    return path


def valid_body(method: str, path: str) -> dict | None:
    """A body the operation would accept, so that only the id decides the answer."""
    if path.endswith("/publication"):
        return {"level": "open", "reason": "prövning"}
    if path.endswith("/depublish"):
        return {"reason": "prövning"}
    return {} if method == "POST" else None


def _path_params(op: dict) -> list[dict]:
    return [p for p in op.get("parameters", []) if p["in"] == "path"]


def test_the_walk_covers_both_documents_and_the_agreement_routes(client):
    admin = {path for _, path, _ in operations(client, ADMIN)}
    assert {"/agreements", "/agreements/{agreement_id}/end", "/audit", "/indicators/{measure_id}/publication"} <= admin
    assert {"/results", "/indicators/{measureId}"} <= {path for _, path, _ in operations(client, OPEN)}
    assert client.get("/admin/agreements", headers=AUTH).status_code == 404  # moved into the admin API


def test_admin_without_an_admin_is_401_problem_on_every_operation(client):
    for method, path, op in operations(client, ADMIN):
        r = client.request(method, ADMIN + concrete(path, EXISTING), json={} if "requestBody" in op else None)
        body = assert_problem(r, 401)
        assert body["code"] == "ADMIN_REQUIRED" and r.headers["www-authenticate"].startswith("Bearer")


def test_wrong_method_and_unknown_sub_path_on_every_route(client):
    for prefix, headers in ((ADMIN, AUTH), (OPEN, {})):
        ops = operations(client, prefix)
        by_path: dict[str, set[str]] = {}
        for method, path, _ in ops:
            by_path.setdefault(path, set()).add(method)
        for path, methods in by_path.items():
            url = prefix + concrete(path, EXISTING)
            wrong = next(m for m in METHODS if m not in methods and not (m == "GET" and "HEAD" in methods))
            r = client.request(wrong, url, headers=headers)
            assert_problem(r, 405)
            assert r.headers["allow"], url
            assert_problem(client.get(url.rstrip("/") + "/no-such-thing", headers=headers), 404)


def test_unknown_and_malformed_ids(client):
    for method, path, op in operations(client, ADMIN):
        for param in _path_params(op):
            body = valid_body(method, path)
            missing = client.request(method, ADMIN + concrete(path, MISSING), json=body, headers=AUTH)
            assert_problem(missing, 404)
            bad = concrete(path, {**EXISTING, param["name"]: "x'%20OR%201=1"})
            assert_problem(client.request(method, ADMIN + bad, json=body, headers=AUTH), 422)
    for method, path, op in operations(client, OPEN):
        if _path_params(op):
            assert_problem(client.request(method, OPEN + concrete(path, MISSING)), 404)
            assert_problem(client.request(method, OPEN + concrete(path, {"measureId": "x'%20OR%201=1"})), 400)


def test_bad_bodies_and_bad_query_parameters(client):
    for method, path, op in operations(client, ADMIN):
        url = ADMIN + concrete(path, EXISTING)
        if "requestBody" in op and not path.endswith("/validate"):  # validate answers a report, not an error
            body = assert_problem(client.request(method, url, json=[1, 2], headers=AUTH), 422)
            assert body["code"] in ("INVALID_REQUEST", "CATALOGUE_INVALID")
        for param in op.get("parameters", []):
            if param["in"] == "query" and param["schema"].get("type") in ("integer", "boolean"):
                assert_problem(client.request(method, url, params={param["name"]: "inte-ett-värde"}, headers=AUTH), 422)
    for method, path, op in operations(client, OPEN):
        url = OPEN + concrete(path, EXISTING)
        for param in op.get("parameters", []):
            if param["in"] == "query" and param["name"] not in ("q", "keyword", "cursor"):
                body = assert_problem(client.request(method, url, params={param["name"]: "\x01" * 3 + "x" * 300}), 400)
                assert body["parameter"] == param["name"]


def test_oversize_bodies_are_413(client):
    for method, path, op in operations(client, ADMIN):
        if "requestBody" not in op:
            continue
        url = ADMIN + concrete(path, EXISTING)
        if path.startswith("/catalogue"):  # a 20 MB limit: declare the size rather than send it
            r = client.request(method, url, content=b"{}", headers={**AUTH, "Content-Length": str(jsonformat.MAX_BYTES + 1)})
        else:
            r = client.request(method, url, content=b" " * (MAX_JSON_BODY + 1), headers={**AUTH, "Content-Type": "application/json"})
        assert assert_problem(r, 413)["code"] == "TOO_LARGE"


def test_refusals_keep_their_extension_members(client):
    r = client.put(f"{ADMIN}/indicators/10001/publication", json={"level": "open", "reason": ""}, headers=AUTH)
    assert assert_problem(r, 422)["details"][0]["field"] == "body.reason"
    bad = json.dumps({"format": jsonformat.FORMAT, "indicators": [{"measureId": "10001"}]})
    r = client.post(f"{ADMIN}/catalogue", content=bad, headers=AUTH)
    body = assert_problem(r, 422)
    assert body["code"] == "CATALOGUE_INVALID" and body["findings"] and body["ok"] is False


def test_an_unexpected_failure_is_a_500_problem_without_a_trace(client, monkeypatch):
    from indikera.opendata import api as opendata_api
    from indikera.publish import control

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internals /etc/passwd")

    monkeypatch.setattr(control, "all_statuses", broken)
    with TestClient(client.app, raise_server_exceptions=False) as plain:
        r = plain.get(f"{ADMIN}/indicators", headers=AUTH)
        assert assert_problem(r, 500)["code"] == "INTERNAL" and "secret" not in r.text
        monkeypatch.setattr(opendata_api, "_not_open", broken)
        r = plain.get(f"{OPEN}/indicators/99999")
        assert assert_problem(r, 500)["code"] == "INTERNAL" and "secret" not in r.text


# ---------------------------------------------------------------------------------- the catalogue itself
def test_every_catalogue_code_has_two_different_texts_with_the_same_placeholders():
    assert len(MESSAGES) >= 20
    for code, (sv, en) in MESSAGES.items():
        assert code == code.upper() and " " not in code, code
        assert sv.strip() and en.strip(), code
        assert sv != en, code
        assert placeholders(sv) == placeholders(en), code


def test_every_error_type_derives_from_the_one_base():
    from indikera.contracts.soap import SoapFault, client_fault
    from indikera.ingest.problems import Fatal
    from indikera.ingest.write_process import ImportWriteError

    for cls in (DomainError, SoapFault, PublishError, AgreementError, AdminAuthError, ProblemError, Fatal, ImportWriteError):
        assert issubclass(cls, IndikeraError), cls
    error = PublishError("REASON", n=3)
    assert (error.code, error.sv, error.en) == ("REASON", *(t.format(n=3) for t in MESSAGES["REASON"]))
    assert str(error).startswith("REASON: Ange ett skäl")
    # SOAP: Swedish first like every constructor; the wire keeps "CODE: English / Swedish"
    fault = client_fault("NO_BODY", "SOAP-kuvertet saknar Body", "the Envelope has no Body")
    assert (fault.sv, fault.en) == ("SOAP-kuvertet saknar Body", "the Envelope has no Body")
    assert fault.faultstring == "NO_BODY: the Envelope has no Body / SOAP-kuvertet saknar Body"
    domain = DomainError("NEGATIVE", "värdet får inte vara negativt", "the value cannot be negative", field="rate")
    assert (domain.sv, domain.en, domain.field, str(domain)) == (
        "värdet får inte vara negativt", "the value cannot be negative", "rate", "NEGATIVE [rate]: värdet får inte vara negativt")


def test_domain_rules_say_it_in_both_languages():
    from indikera.domain.measurements import Proportion
    from indikera.domain.periods import Period

    for build in (lambda: Proportion(11, 10), lambda: Period.parse("20231231", "20230101"), lambda: Period.parse("2023", "20231231")):
        with pytest.raises(DomainError) as err:
            build()
        assert err.value.sv and err.value.en and err.value.sv != err.value.en, err.value.code
