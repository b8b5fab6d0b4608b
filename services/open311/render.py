"""GeoReport v2 bodies in JSON or XML, and errors as the specification writes them."""

from __future__ import annotations

import json
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from fastapi.responses import Response

from services.platform.xml_text import xml_text

FORMATS = {"json": "application/json; charset=utf-8", "xml": "text/xml; charset=utf-8"}
PREFIX = "/open311/"


def _fill(parent: Element, value: Any) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            _fill(SubElement(parent, key), item)
    elif isinstance(value, list):
        raise TypeError("lists are written by their caller")
    elif value is None:
        parent.text = ""
    elif isinstance(value, bool):
        parent.text = "true" if value else "false"
    else:
        parent.text = xml_text(str(value))


def _fields(node: Element, entry: dict[str, Any]) -> None:
    """``entry``'s keys as elements under ``node``; a list as one element holding an
    element per item, named in the singular (``keywords`` holds ``keyword``s)."""
    for key, value in entry.items():
        if isinstance(value, list):
            holder = SubElement(node, key)
            for element in value:
                child = SubElement(holder, key.rstrip("s"))
                if isinstance(element, dict):
                    _fields(child, element)
                else:
                    _fill(child, element)
        else:
            _fill(SubElement(node, key), value)


def _document(document: Element) -> bytes:
    return (
        b'<?xml version="1.0" encoding="utf-8"?>' + tostring(document, encoding="unicode").encode()
    )


def to_xml(root: str, item: str, items: list[dict[str, Any]]) -> bytes:
    document = Element(root)
    for entry in items:
        _fields(SubElement(document, item), entry)
    return _document(document)


def respond(
    fmt: str, root: str, item: str, items: list[dict[str, Any]], *, status: int = 200
) -> Response:
    if fmt == "xml":
        return Response(to_xml(root, item, items), status_code=status, media_type=FORMATS["xml"])
    return Response(json.dumps(items), status_code=status, media_type=FORMATS["json"])


def respond_object(fmt: str, root: str, body: dict[str, Any]) -> Response:
    """A single object (discovery): JSON as is, XML under ``root``."""
    if fmt == "xml":
        document = Element(root)
        _fields(document, body)
        return Response(_document(document), media_type=FORMATS["xml"])
    return Response(json.dumps(body), media_type=FORMATS["json"])


class Open311Error(Exception):
    """An error answered the GeoReport way: ``[{"code", "description"}]``."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def error_format(path: str, status: int, description: str) -> tuple[str, bytes]:
    """An error met before or outside an Open311 route (no such path, wrong method, a
    body too large, too many requests) in the format its path asks for: XML for a path
    ending ``.xml``, else JSON."""
    fmt = "xml" if path.endswith(".xml") else "json"
    response = error_response(fmt, Open311Error(status, description))
    return FORMATS[fmt], bytes(response.body)


def error_response(fmt: str, error: Open311Error) -> Response:
    return respond(
        fmt if fmt in FORMATS else "json",
        "errors",
        "error",
        [{"code": error.status, "description": error.description}],
        status=error.status,
    )
