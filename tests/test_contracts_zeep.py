"""A real SOAP client (zeep) built from the OFFICIAL WSDL calls the running server over a real socket.

Without ../shared the client is built from the project's own WSDL file instead (``oracle.wsdl()``).
Also: zeep loads the project's own WSDL from ``?wsdl`` (imports resolved through ``?xsd=``) and calls
PingForConfiguration. Every raw answer zeep receives is validated with the oracle too.
"""

from __future__ import annotations

import pytest
import zeep
from lxml import etree
from zeep.exceptions import Fault
from zeep.plugins import HistoryPlugin

from indikera.domain.checksum import EMPTY_CHECKSUM

from .support import oracle
from .support import soap_client as sc
from .support.server import demo_server

BINDING = "{urn:riv:followup:groupoutcomes:qualityreporting:GetQualityIndicators:2:rivtabp21}GetQualityIndicatorsResponderBinding"


@pytest.fixture(scope="module")
def server(tmp_path_factory, demo_template):
    with demo_server(demo_template, tmp_path_factory.mktemp("zeep")) as base:
        yield base


def official_client(base: str):
    history = HistoryPlugin()
    client = zeep.Client(str(oracle.wsdl()), settings=zeep.Settings(strict=True), plugins=[history])
    return client, client.create_service(BINDING, base + sc.PATH), history


def call(service, ids, start, end, include=None, address=sc.ADDRESS):
    kwargs = dict(
        measureId=[{"root": sc.KIK, "extension": i} for i in ids],
        reportingPeriod={"start": start, "end": end},
        _soapheaders={"LogicalAddress": address},
    )
    if include is not None:
        kwargs["includeMeasurements"] = include
    return service.GetQualityIndicators(**kwargs).AggregatedQualityReport


def validated(history: HistoryPlugin) -> None:
    oracle.assert_conformant(etree.tostring(history.last_received["envelope"]))


def test_zeep_reads_a_full_answer_and_a_checksum_only_answer(server):
    client, service, history = official_client(server)
    report = call(service, ["10008"], "20230101", "20231231", True)
    validated(history)
    assert len(report.measurement) == 362
    assert report.reportingSystem.hsaId == sc.ADDRESS
    assert (report.reportingPeriod.start, report.reportingPeriod.end) == ("20230101", "20231231")
    first = report.measurement[0]
    assert first.measureId.root == sc.KIK and first.measureId.extension == "10008"
    cohorts = [m.cohortMeasure.cohort for m in report.measurement if m.cohortMeasure is not None]
    assert cohorts and all(c >= 0 for c in cohorts)
    chains = {m.performingOrganization.organizationType for m in report.measurement}
    assert {"Land", "Lan", "Sjukhus", "Vardenhet"} <= chains
    only = call(service, ["10008"], "20230101", "20231231", False)
    validated(history)
    assert only.measurementChecksum == report.measurementChecksum and not only.measurement


def test_zeep_gets_an_empty_answer_for_unknown_ids_and_empty_periods(server):
    _, service, history = official_client(server)
    for ids, period in ((["nope"], ("20230101", "20231231")), (["10001"], ("19990101", "19991231"))):
        report = call(service, ids, *period)
        validated(history)
        assert report.measurementChecksum == EMPTY_CHECKSUM and not report.measurement
        assert (report.reportingPeriod.start, report.reportingPeriod.end) == period


def test_zeep_sees_a_soap_fault_for_a_foreign_logical_address(server):
    _, service, _ = official_client(server)
    with pytest.raises(Fault) as info:
        call(service, ["10001"], "20230101", "20231231", address="SE2321000000-ELSEWHERE")
    assert info.value.code.endswith("Client") and info.value.message.startswith("LOGICAL_ADDRESS_UNKNOWN")
    assert sc.ADDRESS in info.value.message


def test_zeep_loads_the_projects_own_wsdl_from_the_running_service(server):
    client = zeep.Client(server + sc.PATH + "?wsdl", settings=zeep.Settings(strict=True))
    binding = client.wsdl.bindings[BINDING]
    operation = binding.get("GetQualityIndicators")
    assert operation.soapaction == sc.ACTION
    port = next(iter(client.wsdl.services.values())).ports["GetQualityIndicatorsResponderPort"]
    assert port.binding_options["address"] == server + sc.PATH  # the URL actually served
    report = client.service.GetQualityIndicators(
        measureId=[{"root": sc.KIK, "extension": "10014"}],
        reportingPeriod={"start": "20230101", "end": "20231231"},
        _soapheaders={"LogicalAddress": sc.ADDRESS},
    ).AggregatedQualityReport
    assert len(report.measurement) == 362


def test_ping_for_configuration_over_http(server):
    client = zeep.Client(server + sc.PING_PATH + "?wsdl", settings=zeep.Settings(strict=True))
    answer = client.service.PingForConfiguration(_soapheaders={"LogicalAddress": sc.ADDRESS})
    assert answer.version and len(answer.pingDateTime) == 14
    config = {(c.name, c.value) for c in answer.configuration}
    assert ("database", "reachable") in config and ("migrations", "current") in config
    assert ("serviceContract", sc.GQI_NS) in config
