"""HTTP routes of the RIVTA contracts: GetQualityIndicators 2 and PingForConfiguration 1.

POST is the SOAP call; GET ``?wsdl`` serves the project's own WSDL with the served URL as address, and
``?xsd=<file>`` the schemas it imports.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from ..context import AppContext
from . import endpoint, pingforconfiguration_v1, qualityreporting_v2
from .qualityreporting_v2 import service as gqi
from .wsdl import ContractFiles

SERVED_CONTRACTS = [qualityreporting_v2.RESPONDER_NS, pingforconfiguration_v1.RESPONDER_NS]


def _documents(files: ContractFiles):
    async def get(request: Request) -> Response:
        url = str(request.url.replace(query="", fragment=""))
        params = request.query_params
        if "wsdl" in params or "WSDL" in params:
            return Response(files.wsdl(url), media_type="text/xml; charset=UTF-8")
        name = params.get("xsd")
        if name is not None:
            data = files.xsd(name, url)
            if data is None:
                # The name is not echoed: a reflected value is an injection vector even as text/plain.
                return PlainTextResponse("Inget sådant schema; se ?wsdl. (No such schema; see ?wsdl.)\n", status_code=404)
            return Response(data, media_type="text/xml; charset=UTF-8")
        return PlainTextResponse(
            "SOAP 1.1 endpoint (RIVTA BP 2.1): POST a request, or GET ?wsdl for the contract.\n",
            status_code=405,
            headers={"Allow": "GET, POST"},
        )

    return get


def mount(app: FastAPI, ctx: AppContext) -> None:
    settings = ctx.settings
    gqi_path = qualityreporting_v2.endpoint_path(settings.soap_base_path)

    async def get_quality_indicators(request: Request) -> Response:
        return await endpoint.serve(
            request,
            soap_action=qualityreporting_v2.SOAP_ACTION,
            max_bytes=settings.soap_max_request_bytes,
            max_depth=settings.soap_max_depth,
            handler=lambda soap, call: gqi.handle(ctx, request, soap, call),
            audit=gqi.audit(ctx, request),
            concurrent=settings.soap_concurrent_answers,
        )

    async def ping(request: Request) -> Response:
        return await endpoint.serve(
            request,
            soap_action=pingforconfiguration_v1.SOAP_ACTION,
            max_bytes=settings.soap_max_request_bytes,
            max_depth=settings.soap_max_depth,
            handler=lambda soap, call: pingforconfiguration_v1.handle(ctx, soap, call, SERVED_CONTRACTS),
            concurrent=settings.soap_concurrent_answers,
        )

    app.add_route(gqi_path, get_quality_indicators, methods=["POST"], include_in_schema=False)
    app.add_route(gqi_path, _documents(qualityreporting_v2.FILES), methods=["GET"], include_in_schema=False)
    app.add_route(pingforconfiguration_v1.PATH, ping, methods=["POST"], include_in_schema=False)
    app.add_route(pingforconfiguration_v1.PATH, _documents(pingforconfiguration_v1.FILES), methods=["GET"], include_in_schema=False)
