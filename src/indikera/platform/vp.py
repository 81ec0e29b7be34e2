"""The VP request pipeline, in VP Camel's order (VPRouter):

1. sender id (certificate / HTTP route): VP002, VP011, VP014   2. parse: VP015
3. original-consumer header: VP013                            4. vägval: VP008, VP003, VP004, VP006, VP010
5. behörighet: VP007                                          6. timeout   7. RIV transform: VP001, VP005
8. outgoing headers, producer call: VP009 (see forward.py)

Transport-free: ``process(InboundCall)`` returns the status, headers and body to send back, so the server
in standin.py stays a thin socket layer.
"""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone

from cryptography import x509

from ..rivta import CORRELATION_HEADER as CORRELATION_ID
from ..rivta import INSTANCE_ID_HEADER as INSTANCE_ID
from ..rivta import ORIGINAL_CONSUMER_HEADER as ORIGINAL_CONSUMER
from ..rivta import PRODUCER_RESPONSE_TIME_HEADER as PRODUCER_RESPONSE_TIME
from ..rivta import ROUTING_HISTORY_HEADER as ROUTING_HISTORY
from ..rivta import SENDER_ID_HEADER as SENDER_ID
from . import message
from .faults import VPFault, summary
from .forward import ProducerAnswer, ProducerClient
from .settings import PlatformSettings
from .tak import Tak

log = logging.getLogger("indikera.platform")

SENDER_PATTERN = re.compile(r"(?:2.5.4.5|SERIALNUMBER)=([^,]+)")  # certificate.senderid.subject.pattern
# Headers VP removes before calling the producer (HttpHeaderFilterProperties), plus hop-by-hop ones.
_DROP = re.compile(r"(?i)^(x-vp.*|peer_certificates|x-forwarded.*|mule_.*|x-mule_.*|connection|accept-encoding|"
                   r"x-forwarded-tls-client-cert|host|content-length|transfer-encoding|keep-alive|te|upgrade|"
                   r"content-type|user-agent|expect)$")


@dataclass
class InboundCall:
    body: bytes
    headers: Mapping[str, str]  # lower-case names
    peer_ip: str
    tls: bool  # True: the mTLS route; False: the plain HTTP route behind a proxy
    peer_cert_der: bytes | None = None


@dataclass
class Reply:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    code: str | None = None  # the VP fault code, when the reply is a platform fault


def sender_from_subject(subject: str) -> str | None:
    """VP's sender id: the first ``serialNumber`` (2.5.4.5) in the subject DN; ``#hex`` values are DER-decoded."""
    m = SENDER_PATTERN.search(subject)
    if not m:
        return None
    value = m.group(1)
    if value.startswith("#"):
        try:  # VP skips the DER tag and length (5 characters incl. '#') and decodes the rest
            return bytes.fromhex(value[5:]).decode("utf-8")
        except ValueError:
            return None
    return value


def subject_of(der_or_pem: bytes) -> str:
    cert = x509.load_pem_x509_certificate(der_or_pem) if der_or_pem.lstrip().startswith(b"-----") else x509.load_der_x509_certificate(der_or_pem)
    return cert.subject.rfc4514_string()


class VirtualPlatform:
    def __init__(self, settings: PlatformSettings, tak: Callable[[], Tak | None], producer: ProducerClient | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        self.settings = settings
        self.tak = tak
        self.producer = producer or ProducerClient(settings)
        self.clock = clock

    # -------------------------------------------------------------------------------------------------
    def process(self, call: InboundCall) -> Reply:
        correlation = call.headers.get(CORRELATION_ID) or uuid.uuid4().hex
        try:
            try:
                reply = self._route(call, correlation)
            except VPFault:
                raise
            except Exception as exc:  # VP's default code for anything unexpected; never a stack trace to the caller
                log.exception("unexpected error, answered VP009 correlation=%s", correlation)
                raise VPFault("VP009", f"unknown ({type(exc).__name__})") from None
        except VPFault as fault:
            log.info("%s correlation=%s", fault, correlation)
            reply = Reply(500, fault.envelope(self.settings.instance_name),
                          {"content-type": "text/xml;charset=UTF-8"}, code=fault.code)
        reply.headers[CORRELATION_ID] = correlation
        return reply

    def _route(self, call: InboundCall, correlation: str) -> Reply:
        s = self.settings
        sender = self._sender(call)
        if len(call.body) > s.max_receive_bytes:
            raise VPFault("VP015", f"Message larger than {s.max_receive_bytes} bytes")
        info, tree = message.parse(call.body)
        original = call.headers.get(ORIGINAL_CONSUMER)
        internal = (not call.tls) and call.headers.get(INSTANCE_ID) == s.instance_id and SENDER_ID in call.headers
        if original and s.original_consumer_allowed_senders and not internal:
            allowed = {x.lower() for x in s.original_consumer_allowed_senders}
            if sender.lower() not in allowed:
                if s.throw_vp013:
                    raise VPFault("VP013")
                log.warning("sender %s set %s without permission (VP013 not thrown)", sender, ORIGINAL_CONSUMER)

        tak = self.tak()
        if tak is None:
            raise VPFault("VP008")
        if info.receiver_id is None or not info.receiver_id.strip():  # VP: a blank receiverId is no receiverId
            raise VPFault("VP003")
        now = self.clock()
        routes = tak.routes_for(info.receiver_id, info.namespace, now)
        if not routes:
            hint = ". Whitespace detected in incoming request!" if " " in info.receiver_id else ""
            raise VPFault("VP004", summary(info.namespace, info.receiver_id) + hint)
        if len(routes) > 1:
            raise VPFault("VP006", summary(info.namespace, info.receiver_id))
        route = routes[0]
        if not route.address.strip():
            raise VPFault("VP010", summary(info.namespace, info.receiver_id))
        if not tak.is_authorised(sender, info.receiver_id, info.namespace, now):
            raise VPFault("VP007", summary(info.namespace, info.receiver_id, sender, with_sender=True))

        read_timeout = s.timeout_for(info.namespace)
        body = message.to_utf8(call.body, tree, info)
        if info.riv_version is None:
            raise VPFault("VP001")
        wanted = route.riv_profile.lower()
        if wanted != info.riv_version:
            if wanted not in ("rivtabp20", "rivtabp21"):
                raise VPFault("VP005", summary(info.namespace, info.receiver_id))
            body = message.transform_riv(tree, wanted)

        headers = self._outgoing_headers(call, sender, original, correlation, route.address)
        answer: ProducerAnswer = self.producer.call(route.address, body, headers, read_timeout)
        log.info("routed %s → %s status=%s %sms correlation=%s", sender, route.address, answer.status,
                 answer.elapsed_ms, correlation)
        return Reply(answer.status, answer.body, {"content-type": answer.content_type,
                                                   PRODUCER_RESPONSE_TIME: str(answer.elapsed_ms)})

    # -------------------------------------------------------------------------------------------------
    def _sender(self, call: InboundCall) -> str:
        s = self.settings
        if call.tls:
            subject = subject_of(call.peer_cert_der) if call.peer_cert_der else ""
            sender = sender_from_subject(subject)
            if sender is None:  # VP's CertificateExtractorProcessorImpl wording
                raise VPFault("VP002", f"No senderId found in Certificate: {subject}" if subject else "No certificate found")
            return sender
        # HTTP route: only whitelisted peers (a TLS-terminating proxy or an internal component)
        if not _whitelisted(call.peer_ip, s.ip_whitelist):
            raise VPFault("VP011", f"IP-address: {call.peer_ip}. HTTP header that caused checking: {s.cert_header}")
        if SENDER_ID in call.headers and call.headers.get(INSTANCE_ID) == s.instance_id:
            forwarded = call.headers.get("x-forwarded-for", "").split(",")[0].strip()
            if forwarded and not _whitelisted(forwarded, s.ip_whitelist):
                raise VPFault("VP011", f"IP-address: {forwarded}. HTTP header that caused checking: {SENDER_ID}")
            return call.headers[SENDER_ID]
        pem = call.headers.get(s.cert_header.lower())
        if not pem:  # VP's HttpSenderIdExtractorProcessorImpl wording
            raise VPFault("VP002", "No certificate found in httpheader " + s.cert_header)
        from urllib.parse import unquote

        text = unquote(pem)
        if "BEGIN CERTIFICATE" not in text:  # Traefik sends the base64 body without the PEM armour
            text = "-----BEGIN CERTIFICATE-----\n" + text.strip() + "\n-----END CERTIFICATE-----\n"
        try:
            subject = subject_of(text.encode())
        except ValueError:
            raise VPFault("VP002", "Certificate in header could not be read") from None
        sender = sender_from_subject(subject)
        if sender is None:
            raise VPFault("VP002", f"No senderId found in Certificate: {subject}")
        history = call.headers.get(ROUTING_HISTORY, "")
        if s.instance_id.lower() in [h.strip().lower() for h in re.split(r"[,#]", history) if h.strip()]:
            raise VPFault("VP014")
        return sender

    def _outgoing_headers(self, call: InboundCall, sender: str, original: str | None, correlation: str, address: str) -> dict[str, str]:
        s = self.settings
        out = {k: v for k, v in call.headers.items() if not _DROP.match(k)}
        out["content-type"] = "text/xml;charset=UTF-8"
        out["user-agent"] = s.user_agent
        out[ORIGINAL_CONSUMER] = original or sender
        https = address.lower().startswith("https:")
        if not https or s.propagate_correlation_id_https:
            out[CORRELATION_ID] = correlation
        else:
            out.pop(CORRELATION_ID, None)
        if not https:  # internal components over http learn the sender; https producers never see these
            out[SENDER_ID] = sender
            out[INSTANCE_ID] = s.instance_id
        if not call.tls:
            previous = call.headers.get(ROUTING_HISTORY)
            entry = f"{sender}#{s.instance_id}"
            out[ROUTING_HISTORY] = f"{previous},{entry}" if previous else entry
        return out


def _whitelisted(ip: str, whitelist: tuple[str, ...]) -> bool:
    return any(ip.startswith(prefix.strip()) for prefix in whitelist if prefix.strip())
