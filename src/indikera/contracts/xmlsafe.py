"""A hardened XML parser for requests from outside.

No DTD (a document type declaration is refused outright, so no entity can be defined, expanded or
fetched), no network, no huge-tree mode, UTF-8 only, and limits on size and nesting depth checked while
parsing, so a hostile document costs at most the limits. Comments and processing instructions are dropped.
"""

from __future__ import annotations

import io
import re

from lxml import etree

from .soap import client_fault

# The XML declaration's encoding pseudo-attribute, if any (the declaration is ASCII in UTF-8 documents).
_DECLARATION = re.compile(rb"^<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]+)[\"']", re.S)
_UTF8 = {"utf-8", "utf8"}


def check_encoding(body: bytes) -> bytes:
    """Refuse anything but UTF-8 (the only encoding RIVTA BP 2.1 / WS-I allow here); strip a UTF-8 BOM."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    elif body.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(body) > 1 and (body[0] == 0 or body[1] == 0)):
        raise client_fault(
            "ENCODING", "the request must be UTF-8 encoded (found UTF-16/32)", "anropet måste vara kodat i UTF-8"
        )
    m = _DECLARATION.match(body.lstrip()[:200])
    if m and m.group(1).decode("ascii").lower() not in _UTF8:
        raise client_fault(
            "ENCODING",
            f"the request declares encoding {m.group(1).decode('ascii')!r}; only UTF-8 is accepted",
            "endast UTF-8 accepteras",
        )
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise client_fault(
            "ENCODING", f"the request is not valid UTF-8 (byte {exc.start})", "anropet är inte giltig UTF-8"
        ) from None
    return body


def parse(body: bytes, *, max_depth: int) -> etree._Element:
    """Parse a request body into its root element, or raise a Client fault that says what is wrong."""
    body = check_encoding(body)
    if b"<!DOCTYPE" in body or b"<!ENTITY" in body:
        raise client_fault(
            "DTD_FORBIDDEN",
            "document type declarations and entities are not allowed in SOAP messages",
            "DTD och entiteter är inte tillåtna i SOAP-meddelanden",
        )
    depth = 0
    try:
        events = etree.iterparse(
            io.BytesIO(body),
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        for event, _ in events:
            if event == "start":
                depth += 1
                if depth > max_depth:
                    raise client_fault(
                        "TOO_DEEP",
                        f"the request nests elements deeper than {max_depth} levels",
                        f"anropet har element nästlade djupare än {max_depth} nivåer",
                    )
            else:
                depth -= 1
        root = events.root
    except etree.XMLSyntaxError as exc:
        message = str(exc.msg or exc).splitlines()[0][:200]
        raise client_fault("MALFORMED_XML", f"the request is not well-formed XML: {message}", "anropet är inte välformad XML") from None
    if root is None:
        raise client_fault("MALFORMED_XML", "the request is empty", "anropet är tomt")
    if root.getroottree().docinfo.doctype:  # defence in depth: the byte check above should catch this
        raise client_fault("DTD_FORBIDDEN", "document type declarations are not allowed", "DTD är inte tillåtna")
    return root
