"""A hardened XML parser for requests from outside.

No DTD (the parser reports a document type declaration at the first element and it is refused; entities
are never resolved, fetched or loaded), no network, no huge-tree mode, UTF-8 only (the bytes, and the
encoding the parser read from the declaration), and limits on nesting depth, namespace declarations and
attributes per element and elements in all checked while parsing, so a hostile document costs at most the limits (the size is
bounded before). Comments and processing instructions are dropped.
"""

from __future__ import annotations

import copy
import io

from lxml import etree

from .soap import SoapFault, client_fault

# Per element: more than this many namespace declarations or attributes is refused while parsing. Real
# requests declare a handful; tens of thousands on one element made schema validation quadratic (issue #14).
MAX_NAMESPACES_PER_ELEMENT = 64
MAX_ATTRIBUTES_PER_ELEMENT = 64
# In the whole request: the contract declares no attributes, and each unexpected one costs the schema an error.
MAX_ATTRIBUTES = 1024
# Elements in the whole request. A question names its indicators (three elements each) and a period: 10 000
# elements are over 3 000 indicators, far more than any registry has. Each element the schema rejects costs
# the validator an error record, so this bounds the cost of a request that is wrong everywhere (issue #14).
MAX_ELEMENTS = 10_000
_UTF8 = {"utf-8", "utf8"}
_UTF16_32_BOMS = (b"\xff\xfe", b"\xfe\xff", b"\x00\x00\xfe\xff")
# libxml2 errors that mean "this is not (readable as) the declared encoding".
_ENCODING_ERRORS = frozenset(
    getattr(etree.ErrorTypes, name)
    for name in ("ERR_UNSUPPORTED_ENCODING", "ERR_INVALID_ENCODING", "ERR_UNKNOWN_ENCODING")
    if hasattr(etree.ErrorTypes, name)
)


def _not_utf8(en: str) -> SoapFault:
    return client_fault("ENCODING", "anropet måste vara kodat i UTF-8", en)


def check_encoding(body: bytes) -> bytes:
    """Refuse bytes that cannot be UTF-8 XML (RIVTA BP 2.1 / WS-I allow UTF-8 only); strip one UTF-8 BOM.

    This only judges the bytes. What the document *declares* is the parser's to read
    (``declared_encoding``), so a declaration cannot hide behind padding or a BOM.
    """
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    if body.startswith(_UTF16_32_BOMS) or b"\x00" in body:
        # NUL is never XML; every UTF-16/32 text has them (also when a UTF-8 BOM precedes it).
        raise _not_utf8("the request must be UTF-8 encoded (found UTF-16/32 or NUL bytes)")
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise client_fault(
            "ENCODING", "anropet är inte giltig UTF-8", f"the request is not valid UTF-8 (byte {exc.start})"
        ) from None
    return body


def _dtd_forbidden() -> SoapFault:
    return client_fault(
        "DTD_FORBIDDEN",
        "DTD och entiteter är inte tillåtna i SOAP-meddelanden",
        "document type declarations and entities are not allowed in SOAP messages",
    )


def declared_encoding(body: bytes) -> str:
    """The encoding the XML declaration names, as libxml2 reads it (``UTF-8`` when there is none).

    Only the declaration is parsed (it ends at the first ``?>``: none of its values can hold one), once as
    UTF-8 to know it is well-formed, once as declared. Padding or a late position cannot hide it.
    """
    if not body.startswith(b"<?xml"):
        return "UTF-8"
    end = body.find(b"?>")
    if end < 0:
        return "UTF-8"  # no complete declaration: the document parse reports it as malformed
    prolog = body[: end + 2] + b"<x/>"
    try:
        etree.fromstring(prolog, etree.XMLParser(encoding="utf-8", resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return "UTF-8"  # a broken declaration: the document parse reports it as malformed
    try:
        return etree.fromstring(prolog, etree.XMLParser(resolve_entities=False, no_network=True)).getroottree().docinfo.encoding or "UTF-8"
    except etree.XMLSyntaxError:
        return "?"  # well-formed as UTF-8, unreadable as what it declares: not UTF-8


def parse(body: bytes, *, max_depth: int) -> etree._Element:
    """Parse a request body into its root element, or raise a Client fault that says what is wrong.

    The parser itself reports a document type declaration (``docinfo.doctype``, known at the first
    element, before any entity could be used) and the declared encoding (``docinfo.encoding``), wherever
    in the declaration it stands; nesting, namespace declarations and attributes are bounded as they come.
    """
    body = check_encoding(body)
    declared = declared_encoding(body)
    if declared.lower() not in _UTF8:
        raise client_fault(
            "ENCODING",
            "endast UTF-8 accepteras",
            f"the request declares encoding {declared[:40]!r}; only UTF-8 is accepted",
        )
    depth = 0
    namespaces = 0  # declarations seen since the last start tag: they belong to the next element
    attributes = 0
    elements = 0
    first = True
    try:
        events = etree.iterparse(
            io.BytesIO(body),
            events=("start", "end", "start-ns"),
            encoding="utf-8",  # the bytes are UTF-8 (checked above), whatever a declaration says
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            dtd_validation=False,
            huge_tree=False,
            remove_comments=True,
            remove_pis=True,
        )
        for event, element in events:
            if event == "start-ns":
                namespaces += 1
                if namespaces > MAX_NAMESPACES_PER_ELEMENT:
                    raise client_fault(
                        "TOO_MANY_NAMESPACES",
                        f"ett element deklarerar fler än {MAX_NAMESPACES_PER_ELEMENT} namnrymder",
                        f"an element declares more than {MAX_NAMESPACES_PER_ELEMENT} namespaces",
                    )
            elif event == "start":
                if first:
                    first = False
                    if element.getroottree().docinfo.doctype:
                        raise _dtd_forbidden()
                namespaces = 0
                depth += 1
                elements += 1
                if elements > MAX_ELEMENTS:
                    raise client_fault(
                        "TOO_MANY_ELEMENTS",
                        f"anropet har fler än {MAX_ELEMENTS} element",
                        f"the request has more than {MAX_ELEMENTS} elements",
                    )
                if depth > max_depth:
                    raise client_fault(
                        "TOO_DEEP",
                        f"anropet har element nästlade djupare än {max_depth} nivåer",
                        f"the request nests elements deeper than {max_depth} levels",
                    )
                count = len(element.attrib)
                attributes += count
                if count > MAX_ATTRIBUTES_PER_ELEMENT or attributes > MAX_ATTRIBUTES:
                    raise client_fault(
                        "TOO_MANY_ATTRIBUTES",
                        f"för många attribut (högst {MAX_ATTRIBUTES_PER_ELEMENT} per element, {MAX_ATTRIBUTES} i anropet)",
                        f"too many attributes (at most {MAX_ATTRIBUTES_PER_ELEMENT} per element, {MAX_ATTRIBUTES} in the request)",
                    )
            else:
                depth -= 1
        root = events.root
    except etree.XMLSyntaxError as exc:
        message = str(exc.msg or exc).splitlines()[0][:200]
        if exc.code in _ENCODING_ERRORS:
            raise _not_utf8(f"the request cannot be read as its declared encoding; only UTF-8 is accepted ({message})") from None
        raise client_fault("MALFORMED_XML", "anropet är inte välformad XML", f"the request is not well-formed XML: {message}") from None
    if root is None:
        raise client_fault("MALFORMED_XML", "anropet är tomt", "the request is empty")
    if root.getroottree().docinfo.doctype:  # defence in depth: the first start tag has been checked already
        raise _dtd_forbidden()
    return root


def first_schema_error(schema: etree.XMLSchema, element: etree._Element) -> str | None:
    """The first error of ``element`` against ``schema``, or None when it is valid.

    Validates a re-rooted copy (it declares only the namespaces it uses, not every declaration in scope on
    the Envelope) while re-parsing it, not the tree: tree validation computes each error's node path by
    counting preceding siblings, so a request full of errors cost quadratic time (issue #14).
    """
    data = etree.tostring(copy.deepcopy(element))
    parser = etree.XMLParser(schema=schema, resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False)
    try:
        etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        return str(exc.msg or exc).splitlines()[0] or "invalid"
    return None
