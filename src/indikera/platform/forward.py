"""VP → producer: POST the envelope over (m)TLS with the platform's certificate, VP's timeouts and retry.

Outcome mapping follows VP Camel (``HandleProducerExceptionProcessor``, ``HandleEmptyResponseProcessorImpl``):
  * 2xx with a body → returned unchanged;       * 2xx with an empty body → VP009;
  * 500 whose body holds a SOAP envelope → passed through with status 500;
  * any other status, a read timeout, a TLS error → VP009;
  * a connection error (refused/reset/closed: VP's SocketException) is retried ``retry_attempts`` times after
    ``retry_delay``, then VP009.
"""

from __future__ import annotations

import ssl
import time
from dataclasses import dataclass
from http import HTTPStatus

import httpx

from .faults import SOAP_ENV, VPFault
from .settings import PlatformSettings

TIMEOUT_MESSAGE = "Timeout when waiting on response from producer."


@dataclass(frozen=True)
class ProducerAnswer:
    status: int
    body: bytes
    content_type: str
    elapsed_ms: int


def client_ssl_context(settings: PlatformSettings) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(settings.producer_ca) if settings.producer_ca else None)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = settings.producer_hostname_verification
    if settings.producer_cert is not None:
        ctx.load_cert_chain(str(settings.producer_cert), str(settings.producer_key) if settings.producer_key else None)
    return ctx


class ProducerClient:
    def __init__(self, settings: PlatformSettings):
        self.settings = settings
        # One pooled client (keep-alive on, as VP's Netty client); httpx drops pooled connections the producer
        # closed, and a refused/reset connection is retried below like VP's SocketException retry.
        self._http = httpx.Client(verify=client_ssl_context(settings), trust_env=False,
                                  limits=httpx.Limits(max_connections=100, max_keepalive_connections=20))

    def close(self) -> None:
        self._http.close()

    def call(self, address: str, body: bytes, headers: dict[str, str], read_timeout: float) -> ProducerAnswer:
        s = self.settings
        timeout = httpx.Timeout(connect=s.connect_timeout, read=read_timeout, write=read_timeout, pool=s.connect_timeout)
        attempts = 0
        started = time.monotonic()
        while True:
            try:
                resp = self._http.post(address, content=body, headers=headers, timeout=timeout)
                break
            except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:  # refused, reset, closed under us
                if _is_tls_error(exc) or attempts >= s.retry_attempts:
                    raise VPFault("VP009", _camel(address, _java_class(exc), _message(exc))) from None
                attempts += 1
                time.sleep(s.retry_delay)
            except httpx.TimeoutException:
                raise VPFault("VP009", _camel(address, "io.netty.handler.timeout.ReadTimeoutException", TIMEOUT_MESSAGE)) from None
            except httpx.HTTPError as exc:
                raise VPFault("VP009", _camel(address, _java_class(exc), _message(exc))) from None
        elapsed = int((time.monotonic() - started) * 1000)
        content_type = resp.headers.get("content-type", "text/xml;charset=UTF-8")
        if 200 <= resp.status_code < 300:
            if not resp.content:
                raise VPFault("VP009", f"{address}. Empty message when server responded with status code: "
                                       f"{_status(resp.status_code)}")
            return ProducerAnswer(resp.status_code, resp.content, content_type, elapsed)
        if resp.status_code == 500 and SOAP_ENV.encode() in resp.content:
            return ProducerAnswer(500, resp.content, content_type, elapsed)
        msg = f"Netty HTTP operation failed invoking {address} with statusCode: {resp.status_code}"
        raise VPFault("VP009", _camel(address, "org.apache.camel.component.netty.http.NettyHttpOperationFailedException", msg)
                      + f" VP_PRODUCER_EXCEPTION_HTTP_STATUS={resp.status_code}")


def _camel(address: str, cls: str, message: str) -> str:
    return f"{address}. Exception Caught by Camel when contacting producer. Exception information: ({cls}: {message})"


def _status(code: int) -> str:
    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return str(code)


def _is_tls_error(exc: BaseException) -> bool:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, ssl.SSLError) or "SSL" in type(exc).__name__ or "CERTIFICATE" in str(exc).upper():
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def _java_class(exc: BaseException) -> str:
    """The Java exception VP would name for this failure (so consumers see familiar details)."""
    if _is_tls_error(exc):
        return "javax.net.ssl.SSLHandshakeException"
    if isinstance(exc, httpx.ConnectError):
        return "java.net.ConnectException"
    if isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError)):
        return "java.net.SocketException"
    return "java.io.IOException"


def _message(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
