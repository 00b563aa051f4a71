"""SOAP 1.1 as SAP's web service runtime speaks it: the envelope in and out, and faults.

A request that cannot be read (not XML, no envelope, a missing or malformed element) is a
``soap-env:Client`` fault; SAP answers faults with HTTP 500, as SOAP 1.1 binds them. Business
refusals are not faults: they come back in the confirmation's ``Log``.

Requests are parsed with entities and DTDs off and never fetched from the network. Children of
the message elements are unqualified, as in SAP's messages; they are matched by local name.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from fastapi.responses import Response
from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SFIN = "http://sap.com/xi/SAPSCORE/SFIN"
XML_CONTENT_TYPE = "text/xml; charset=utf-8"
MAX_BODY_BYTES = 5 * 1024 * 1024

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, remove_blank_text=True)


class SoapFault(Exception):
    """A fault answer: ``Client`` for what the sender must fix, ``Server`` for the sandbox's side."""

    def __init__(self, message: str, *, client: bool = True, status: int = 500,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message, self.client, self.status, self.headers = message, client, status, headers or {}

    def response(self) -> Response:
        return Response(fault_body(self.message, client=self.client), status_code=self.status,
                        media_type=XML_CONTENT_TYPE, headers=self.headers)


def fault_body(message: str, *, client: bool) -> bytes:
    fault = etree.Element(etree.QName(SOAP_ENV, "Fault"), nsmap={"soap-env": SOAP_ENV})
    etree.SubElement(fault, "faultcode").text = "soap-env:Client" if client else "soap-env:Server"
    faultstring = etree.SubElement(fault, "faultstring")
    faultstring.set("{http://www.w3.org/XML/1998/namespace}lang", "en")
    faultstring.text = message
    etree.SubElement(fault, "detail")
    return envelope(fault)


def render_error(status: int, retry_after: float | None) -> tuple[bytes, str]:
    """The kit's fault renderer: injected 429/5xx as SOAP server faults."""
    message = {429: "Too many requests; try again later.",
               503: "Service unavailable: the system is in maintenance; try again later."}.get(
        status, "Internal server error (sandbox fault).")
    return fault_body(message, client=False), XML_CONTENT_TYPE


def envelope(payload: etree._Element) -> bytes:
    env = etree.Element(etree.QName(SOAP_ENV, "Envelope"), nsmap={"soap-env": SOAP_ENV})
    etree.SubElement(env, etree.QName(SOAP_ENV, "Header"))
    etree.SubElement(env, etree.QName(SOAP_ENV, "Body")).append(payload)
    return etree.tostring(env, xml_declaration=True, encoding="utf-8")


def body_payload(raw: bytes, expected_root: str) -> etree._Element:
    """The message inside a SOAP envelope, which must be ``expected_root`` (a local name)."""
    if len(raw) > MAX_BODY_BYTES:
        raise SoapFault(f"The request is larger than {MAX_BODY_BYTES} bytes.")
    try:
        root = etree.fromstring(raw, _PARSER)
    except etree.XMLSyntaxError:
        raise SoapFault("The request is not well-formed XML.") from None
    if root.tag != etree.QName(SOAP_ENV, "Envelope"):
        raise SoapFault("The request is not a SOAP 1.1 envelope.")
    body = root.find(etree.QName(SOAP_ENV, "Body"))
    payload = [child for child in body if isinstance(child.tag, str)] if body is not None else []
    if len(payload) != 1 or payload[0].tag != etree.QName(SFIN, expected_root):
        raise SoapFault(f"The SOAP body must hold one {{{SFIN}}}{expected_root}.")
    return payload[0]


def local_name(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def children(element: etree._Element, name: str) -> list[etree._Element]:
    return [child for child in element if local_name(child) == name]


def child(element: etree._Element, name: str, path: str) -> etree._Element:
    found = children(element, name)
    if len(found) != 1:
        raise SoapFault(f"{path}/{name} is {'missing' if not found else 'repeated'}.")
    return found[0]


def text(element: etree._Element, name: str, path: str, *, max_length: int, required: bool = True) -> str | None:
    """The trimmed text of child ``name``; None if absent and not required."""
    found = children(element, name)
    if len(found) > 1:
        raise SoapFault(f"{path}/{name} is repeated.")
    value = (found[0].text or "").strip() if found else ""
    if not value:
        if required:
            raise SoapFault(f"{path}/{name} is missing.")
        return None
    if len(value) > max_length:
        raise SoapFault(f"{path}/{name} is longer than {max_length} characters.")
    return value


def required_text(element: etree._Element, name: str, path: str, *, max_length: int) -> str:
    value = text(element, name, path, max_length=max_length)
    assert value is not None
    return value


def amount(element: etree._Element, path: str) -> Decimal:
    """A signed decimal amount, at most 23 digits with 6 after the point (the sandbox's bound)."""
    raw = (element.text or "").strip()
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise SoapFault(f"{path} is not a decimal amount.") from None
    sign, digits, exponent = value.as_tuple()
    if not value.is_finite() or not isinstance(exponent, int) or exponent < -6 or len(digits) > 23:
        raise SoapFault(f"{path} is not a decimal amount with at most 6 decimal places.")
    return value
