"""What GeoReport v2 answers must look like, as JSON Schema, written for these tests from
the specification and the Open311 project's published schemas (open311/schema-validation,
schema/georeport-v2): the same required fields, types and enumerations, in our own words.
mySociety's servicerequestupdates extension and the error list follow their documents."""

from __future__ import annotations

from typing import Any

TEXT_OR_NULL: dict[str, Any] = {"type": ["string", "null"]}
NUMBER_OR_NULL: dict[str, Any] = {"type": ["number", "null"]}
# W3C date-time to the second, with an offset (GeoReport's examples and clients' parsers).
DATE_TIME: dict[str, Any] = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}([+-]\d{2}:\d{2}|Z)$",
}
DATE_TIME_OR_NULL: dict[str, Any] = {"anyOf": [DATE_TIME, {"type": "null"}]}
URL_OR_NULL: dict[str, Any] = {
    "anyOf": [{"type": "string", "pattern": r"^https?://\S+$"}, {"type": "null"}]
}

SERVICE: dict[str, Any] = {
    "type": "object",
    "required": ["service_code", "service_name", "metadata", "type"],
    "properties": {
        "service_code": {"type": "string"},
        "service_name": {"type": "string"},
        "description": TEXT_OR_NULL,
        "metadata": {"type": "boolean"},
        "type": {"enum": ["realtime", "batch", "blackbox"]},
        "keywords": TEXT_OR_NULL,  # one string, comma-separated
        "group": TEXT_OR_NULL,
    },
}

SERVICE_DEFINITION: dict[str, Any] = {
    "type": "object",
    "required": ["service_code", "attributes"],
    "properties": {
        "service_code": {"type": "string"},
        "attributes": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["variable", "code", "datatype", "required"],
                "properties": {
                    "variable": {"type": "boolean"},
                    "code": {"type": "string"},
                    "datatype": {
                        "enum": [
                            "string",
                            "number",
                            "datetime",
                            "text",
                            "singlevaluelist",
                            "multivaluelist",
                        ]
                    },
                    "required": {"type": "boolean"},
                },
            },
        },
    },
}

REQUEST: dict[str, Any] = {
    "type": "object",
    "required": ["service_request_id", "status", "service_code", "requested_datetime"],
    "properties": {
        "service_request_id": {"type": "string"},
        "status": {"enum": ["open", "closed"]},
        "status_notes": TEXT_OR_NULL,
        "service_name": TEXT_OR_NULL,
        "service_code": {"type": "string"},
        "description": {"anyOf": [{"type": "string", "maxLength": 4000}, {"type": "null"}]},
        "agency_responsible": TEXT_OR_NULL,
        "service_notice": TEXT_OR_NULL,
        "requested_datetime": DATE_TIME,
        "updated_datetime": DATE_TIME_OR_NULL,
        "expected_datetime": DATE_TIME_OR_NULL,
        "address": TEXT_OR_NULL,
        "address_id": TEXT_OR_NULL,
        "zipcode": TEXT_OR_NULL,
        "lat": NUMBER_OR_NULL,
        "long": NUMBER_OR_NULL,
        "media_url": URL_OR_NULL,
    },
}

# A POST's receipt: the request's number or a token to follow it by.
RECEIPT: dict[str, Any] = {
    "type": "object",
    "anyOf": [{"required": ["service_request_id"]}, {"required": ["token"]}],
    "properties": {
        "service_request_id": TEXT_OR_NULL,
        "token": TEXT_OR_NULL,
        "service_notice": TEXT_OR_NULL,
        "account_id": TEXT_OR_NULL,
    },
}

TOKEN: dict[str, Any] = {
    "type": "object",
    "required": ["token"],
    "properties": {"service_request_id": TEXT_OR_NULL, "token": {"type": "string"}},
}

DISCOVERY: dict[str, Any] = {
    "type": "object",
    "required": ["changeset", "contact", "endpoints"],
    "properties": {
        "changeset": DATE_TIME,
        "contact": {"type": "string"},
        "key_service": {"type": "string"},
        "endpoints": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["specification", "url", "changeset", "type", "formats"],
                "properties": {
                    "specification": {"type": "string"},
                    "url": {"type": "string", "pattern": r"^https?://"},
                    "changeset": DATE_TIME,
                    "type": {"enum": ["production", "test"]},
                    "formats": {"type": "array", "items": {"type": "string"}},
                },
            },
        },
    },
}

UPDATE: dict[str, Any] = {
    "type": "object",
    "required": [
        "update_id",
        "service_request_id",
        "status",
        "updated_datetime",
        "description",
    ],
    "properties": {
        "update_id": {"type": "string"},
        "service_request_id": {"type": "string"},
        "status": {"type": "string", "pattern": r"^[a-z_]+$"},
        "updated_datetime": DATE_TIME,
        "description": {"type": "string"},
        "media_url": URL_OR_NULL,
    },
}

ERROR: dict[str, Any] = {
    "type": "object",
    "required": ["code", "description"],
    "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
}


def list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


# What each path answers in JSON, by the last part of its path (before the format).
BY_ENDPOINT: dict[str, dict[str, Any]] = {
    "discovery": DISCOVERY,
    "services": list_of(SERVICE),
    "service_definition": SERVICE_DEFINITION,
    "requests": list_of(REQUEST),
    "receipt": list_of(RECEIPT),
    "tokens": list_of(TOKEN),
    "servicerequestupdates": list_of(UPDATE),
    "errors": {**list_of(ERROR), "minItems": 1},
}
