"""Environments, the TAK order (Beställningsstöd JSON) and `connection status`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from typer.testing import CliRunner

from indikera.access import pki
from indikera.cli import app as cli_app
from indikera.platform import environments, status
from indikera.platform.ordering import OrderError, build_order, order_as_tak_export, verify_in_tak
from indikera.platform.tak import load_export

NS = environments.CONTRACT_NAMESPACE
runner = CliRunner()
URL = "https://indikera.test.example.se/qualityreporting/GetQualityIndicators/2/rivtabp21"


def profiles(tmp_path: Path, **sit) -> Path:
    lines = ["[environments.sit]"] + [f"{k} = {json.dumps(v)}" for k, v in sit.items()]
    p = tmp_path / "profiles.toml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_builtin_environments_leave_production_to_the_operator():
    envs = environments.load(None)
    assert set(envs) >= {"local", "sit", "qa", "production"}
    assert (envs["sit"].plattform, envs["qa"].plattform, envs["production"].plattform) == ("NTJP-TEST", "NTJP-QA", "NTJP-PROD")
    assert envs["production"].vp_url.startswith("https://esb.ntjp.se/vp/")
    assert envs["production"].missing_for_order() == ["producer_hsa_id", "producer_url", "consumers"]
    assert environments.get("prod").name == "production" and environments.get("test").name == "sit"


def test_order_json_has_the_bestallningsstod_shape_with_upper_case_hsa_ids(tmp_path):
    env = environments.get("sit", profiles(tmp_path, producer_hsa_id="tst2321000016-abcd", producer_url=URL,
                                            consumers=["tstnmt2321000156-b02", "SE5565594230-VIS"]))
    order = build_order(env, who="Anna")
    assert order["plattform"] == "NTJP-TEST" and order["utforare"] == "Anna"
    assert set(order) >= {"formatVersion", "version", "bestallningsTidpunkt", "genomforandeTidpunkt", "kommentar", "inkludera", "exkludera"}
    inc = order["inkludera"]
    assert inc["vagval"] == [{"adress": URL, "logiskAdress": "TST2321000016-ABCD", "tjanstekontrakt": NS,
                              "rivtaprofil": "RIVTABP21", "tjanstekomponent": "TST2321000016-ABCD"}]
    assert {b["tjanstekonsument"] for b in inc["anropsbehorigheter"]} == {"TSTNMT2321000156-B02", "SE5565594230-VIS"}
    assert [t["namnrymd"] for t in inc["tjanstekontrakt"]] == [NS]
    assert {c["hsaId"] for c in inc["tjanstekomponenter"]} == {"TST2321000016-ABCD", "TSTNMT2321000156-B02", "SE5565594230-VIS"}
    assert set(order["exkludera"]) >= {"anropsbehorigheter", "vagval"}
    # what TAK holds after the import routes and authorises exactly that
    tak = load_export(order_as_tak_export(order))
    assert verify_in_tak(env, tak) == []


@pytest.mark.parametrize("url, words", [
    ("http://indikera.example.se/qualityreporting/GetQualityIndicators/2/rivtabp21", "https"),
    ("https://indikera.example.se/qualityreporting/GetQualityIndicators/2.0/rivtabp21", "regel 19"),
    ("https://localhost/qualityreporting/GetQualityIndicators/2/rivtabp21", "egna datorn"),
])
def test_order_refuses_urls_ntjp_cannot_use(tmp_path, url, words):
    env = environments.get("sit", profiles(tmp_path, producer_hsa_id="TST1", producer_url=url, consumers=["C"]))
    with pytest.raises(OrderError, match=words):
        build_order(env, who="x")


def test_order_cli_writes_files_and_refuses_an_unfilled_production_profile(tmp_path):
    ok = runner.invoke(cli_app, ["connection", "order", "--env", "local", "--out", str(tmp_path / "order.json"),
                                 "--tak-out", str(tmp_path / "tak.json")])
    assert ok.exit_code == 0, ok.output
    order = json.loads((tmp_path / "order.json").read_text(encoding="utf-8"))
    assert order["inkludera"]["vagval"][0]["logiskAdress"] == "SE2321000000-INDIKERA"
    assert load_export(json.loads((tmp_path / "tak.json").read_text())).routes
    prod = runner.invoke(cli_app, ["connection", "order", "--env", "production", "--profiles", str(profiles(tmp_path))])
    assert prod.exit_code == 1 and "producer_hsa_id" in prod.output and "[environments.sit]" in prod.output
    assert runner.invoke(cli_app, ["connection", "order", "--env", "mars"]).exit_code == 1


def test_unknown_profile_settings_are_refused(tmp_path):
    p = tmp_path / "p.toml"
    p.write_text('[environments.sit]\nproducer_hsaid = "x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="producer_hsaid"):
        environments.load(p)


@pytest.fixture
def ready(tmp_path):
    """A SIT profile with a good certificate, a passing conformance report and the order in a TAK export."""
    root = pki.new_root(environments.SITHS_TEST[0])  # a stand-in chain with the TEST SITHS names SIT requires
    ca = pki.new_ca(root, environments.SITHS_TEST[1])
    leaf = pki.new_function_cert(ca, hsa_id="TST2321000016-ABCD", common_name="indikera")
    (tmp_path / "ca.pem").write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in (root.cert, ca.cert)))
    (tmp_path / "cert.pem").write_bytes(leaf.cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(leaf.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    reports = tmp_path / "reports" / "run1"
    reports.mkdir(parents=True)
    (reports / "conformance-report.json").write_text(json.dumps({
        "summary": {"passed": 16, "failed": 0}, "finished": "2026-11-26T02:00:00+00:00", "environment": {"url": URL}}))
    p = profiles(tmp_path, producer_hsa_id="TST2321000016-ABCD", producer_url=URL, consumers=["TSTNMT2321000156-B02"],
                 cert=str(tmp_path / "cert.pem"), key=str(tmp_path / "key.pem"), ca_bundle=str(tmp_path / "ca.pem"),
                 reports_dir=str(tmp_path / "reports"))
    env = environments.get("sit", p)
    (tmp_path / "tak.json").write_text(json.dumps(order_as_tak_export(build_order(env, who="x"))))
    return {"profiles": p, "dir": tmp_path, "env": env}


def test_status_verifies_what_it_can(ready):
    tak = load_export(json.loads((ready["dir"] / "tak.json").read_text()))
    items = status.steps(ready["env"], environments.get("production", ready["profiles"]), test_tak=tak)
    by = {s.number: s for s in items}
    assert [s.name for s in items][0] == "Förstudie" and len(items) == 8
    assert (by[1].status, by[6].status) == (status.MANUAL, status.MANUAL)
    assert by[2].status == status.OK and "serialNumber = TST2321000016-ABCD" in by[2].verified
    assert by[3].status == status.OK
    assert by[4].status == status.OK and "16 godkända" in by[4].verified
    assert by[5].status == status.MANUAL
    assert by[7].status == status.TODO and by[8].status == status.TODO


def test_status_cli_fails_when_a_check_fails(ready):
    args = ["connection", "status", "--profiles", str(ready["profiles"]), "--tak", str(ready["dir"] / "tak.json"), "--json"]
    ok = runner.invoke(cli_app, args)
    assert ok.exit_code == 0, ok.output
    assert [s["status"] for s in json.loads(ok.stdout)["steps"]][:4] == ["manuellt", "ok", "ok", "ok"]
    empty_tak = ready["dir"] / "empty.json"
    empty_tak.write_text(json.dumps({"data": {}}))
    failed = runner.invoke(cli_app, ["connection", "status", "--profiles", str(ready["profiles"]), "--tak", str(empty_tak), "--json"])
    assert failed.exit_code == 1
    step3 = json.loads(failed.stdout)["steps"][2]
    assert step3["status"] == "fel" and "vägval för TST2321000016-ABCD saknas" in step3["verified"]
    report = next((ready["dir"] / "reports").rglob("conformance-report.json"))
    report.write_text(json.dumps({"summary": {"passed": 15, "failed": 1}}))
    assert runner.invoke(cli_app, ["connection", "status", "--profiles", str(ready["profiles"])]).exit_code == 1


# --- the public TAK-API v2 (skltp-integration/cooperation /coop/api/v2/…) ----------------------------------------

def _cp(env: str) -> dict:
    return {"id": {"TEST": 1, "QA": 2, "PROD": 3}[env], "platform": "NTJP", "environment": env, "snapshotTime": "2026-11-26T02:00:00+0100"}


def _production(la: str, url: str, env: str = "TEST") -> dict:
    return {"id": 10, "physicalAddress": url, "rivtaProfile": "RIVTABP21",
            "serviceProducer": {"id": 5, "hsaId": la, "description": "indikera"},
            "logicalAddress": {"id": 7, "logicalAddress": la, "description": "Registret"},
            "serviceContract": {"id": 3, "name": "GetQualityIndicators", "namespace": NS, "major": 2, "minor": 0},
            "connectionPoint": _cp(env)}


def _cooperation(consumer: str, la: str, env: str = "TEST") -> dict:
    return {"id": 20, "serviceConsumer": {"id": 6, "hsaId": consumer, "description": "VIS"},
            "logicalAddress": {"id": 7, "logicalAddress": la}, "serviceContract": {"id": 3, "namespace": NS},
            "connectionPoint": _cp(env)}


LA_SIT, CONSUMER = "TST2321000016-ABCD", "TSTNMT2321000156-B02"


def _status(ready, data) -> tuple[int, dict]:
    path = ready["dir"] / "takapi.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    res = runner.invoke(cli_app, ["connection", "status", "--profiles", str(ready["profiles"]), "--tak", str(path), "--json"])
    return res.exit_code, json.loads(res.stdout)["steps"][2] if res.stdout.startswith("{") else {"verified": res.output}


def test_status_reads_the_public_tak_api_and_checks_the_order_in_its_environment(ready):
    code, step = _status(ready, {"serviceProductions": [_production(LA_SIT, URL), _production(LA_SIT, "https://other/x", "PROD")],
                                 "cooperations": [_cooperation(CONSUMER, LA_SIT)]})
    assert code == 0 and step["status"] == "ok", step
    assert "TAK-API:t (NTJP/TEST)" in step["verified"] and CONSUMER in step["verified"]


@pytest.mark.parametrize("data, words", [
    ({"serviceProductions": [_production(LA_SIT, URL)], "cooperations": []}, f"anropsbehörighet för {CONSUMER}"),
    ({"serviceProductions": [_production(LA_SIT, "https://elsewhere.example.se/x")], "cooperations": [_cooperation(CONSUMER, LA_SIT)]},
     "pekar på https://elsewhere.example.se/x"),
    ({"serviceProductions": [_production("TST-OTHER", URL)], "cooperations": [_cooperation(CONSUMER, LA_SIT)]}, f"vägval för {LA_SIT} saknas"),
    ({"serviceProductions": [_production(LA_SIT, URL, "QA")], "cooperations": [_cooperation(CONSUMER, LA_SIT, "QA")]},
     "gäller NTJP/QA, inte NTJP/TEST"),
])
def test_status_names_what_the_tak_api_lacks(ready, data, words):
    code, step = _status(ready, data)
    assert code == 1 and step["status"] == "fel" and words in step["verified"], step


def test_tak_api_lists_downloaded_one_by_one_or_with_bare_ids_load(tmp_path):
    from datetime import datetime, timezone

    from indikera.platform.tak import TakError, load_file

    now = datetime.now(timezone.utc)
    path = tmp_path / "productions.json"
    path.write_text(json.dumps([_production(LA_SIT, URL)]))  # serviceProductions?include=… saved as is
    tak = load_file(path)
    assert [r.address for r in tak.routes_for(LA_SIT.lower(), NS, now)] == [URL] and tak.connection_points == {"NTJP/TEST"}
    path.write_text(json.dumps([_cooperation(CONSUMER, LA_SIT)]))
    assert load_file(path).is_authorised(CONSUMER, LA_SIT, NS, now)
    bare = {"serviceProductions": [{"id": 1, "physicalAddress": URL, "rivtaProfile": "RIVTABP21", "serviceProducer": {"id": 5},
                                    "logicalAddress": {"id": 7}, "serviceContract": {"id": 3}, "connectionPoint": {"id": 1}}],
            "serviceProducers": [{"id": 5, "hsaId": LA_SIT}], "logicalAddresses": [{"id": 7, "logicalAddress": LA_SIT}],
            "serviceContracts": [{"id": 3, "namespace": NS}], "connectionPoints": [_cp("TEST")]}
    path.write_text(json.dumps(bare))
    tak = load_file(path)
    assert tak.routes[0].logical_address == LA_SIT and tak.routes[0].connection_point == "NTJP/TEST"
    del bare["logicalAddresses"]
    path.write_text(json.dumps(bare))
    with pytest.raises(TakError, match=r"logicalAddress\.logicalAddress saknas"):
        load_file(path)
