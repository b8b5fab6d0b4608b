"""Every look-up of something that is not there, by someone allowed to look, is audited.

Routes are found by walking the app, as the permission matrix does. Each guarded route
that names one object in its path is asked, by a role the matrix allows, for an object
that does not exist. It must answer 404, and the audit trail must hold an entry for that
very request with the outcome "not_found": a miss on personal data is still an act on it.
"""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from services.app.factory import create_app
from services.platform.auth import PERMISSIONS
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from services.platform.roles import Role
from tests.support import PUBLIC_URL, StaffFactory, api_routes, audit_entries

# Well-formed identifiers of objects that do not exist, by path parameter.
MISSING = {
    "user_id": "999999",
    "token_id": "999999",
    "evaluation_id": "999999",
    "call_sid": "CA" + "0" * 32,
    "recording_sid": "RE" + "0" * 32,
    "code": "no-such-service",
    "digits": "8888",
    "appointment_id": "AP-ZZZZZ-ZZZZZ",
    "hold_id": "LH-ZZZZZZZZ",
    "kind": "acknowledgement",
    "contact_id": "CT-ZZZZZ-ZZZZZ",
    "inbound_id": "999999",
}
PUBLIC_IDS = {
    "/api/requests/": "SR-ZZZZZ-ZZZZZ",
    "/api/privacy/requests/": "PR-ZZZZZZZZ",
    "/api/disclosures/": "DC-ZZZZZ-ZZZZZ",
    "/api/alerts/": "AL-ZZZZZ-ZZZZZ",
}
# A body each route with one accepts, so that only the missing object can refuse it.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/staff/{user_id}"): {"disabled": False},
    ("PUT", "/api/staff/{user_id}/password"): {"password": "a long enough passphrase"},
    ("POST", "/api/staff/{user_id}/approve"): {"role": "agent"},
    ("POST", "/api/requests/{public_id}/status"): {"status": "closed"},
    ("PATCH", "/api/requests/{public_id}/contact"): {"name": "Pat Example"},
    ("PUT", "/api/requests/{public_id}/public-description"): {"text": "Pothole"},
    ("POST", "/api/requests/{public_id}/updates"): {"email": "pat@example.org"},
    ("PATCH", "/api/services/{code}"): {"name": "Renamed"},
    ("PATCH", "/api/extensions/{digits}"): {"enabled": True},
    ("POST", "/api/recordings/{recording_sid}/evaluations"): {
        "form_id": 1,
        "agent": "nobody",
        "answers": {},
    },
    ("POST", "/api/appointments/{appointment_id}/reschedule"): {
        "starts_at": "2026-11-20T10:00:00-05:00",
        "ends_at": "2026-11-20T11:00:00-05:00",
    },
    ("POST", "/api/appointments/{appointment_id}/cancel"): {},
    ("POST", "/api/contacts/{contact_id}/wrap-up"): {"resolution": "information_provided"},
    ("POST", "/api/messages/inbound/{inbound_id}/reply"): {"body": "Thank you"},
    ("POST", "/api/holds/{hold_id}/release"): {"reason": "the matter is closed"},
    ("POST", "/api/privacy/requests/{public_id}/acknowledge"): {},
    ("POST", "/api/privacy/requests/{public_id}/decide"): {"decision": "granted"},
    ("PUT", "/api/kb/articles/{code}"): {
        "language": "en",
        "title": "Bulk pickup",
        "body": "Large items are collected by appointment.",
        "department": "Sanitation",
    },
    ("POST", "/api/privacy/requests/{public_id}/corrections"): {
        "request_id": "SR-ZZZZZ-ZZZZZ",
        "name": "Pat Example",
    },
}
# Routes that name no stored object, or act on Twilio rather than on what the city holds.
NOT_LOOKUPS = {
    ("POST", "/api/calls/{call_sid}/recording"): "pauses Twilio's recording of a live call",
    ("GET", "/console/recordings/{recording_sid}"): "a page whose script asks the API",
    ("GET", "/console/requests/{public_id}"): "a page whose script asks the API",
    ("PUT", "/api/retention/schedules/{record_class}"): "record classes are a fixed list",
}


def concrete(path: str) -> str:
    for prefix, missing in PUBLIC_IDS.items():
        if path.startswith(prefix):
            path = path.replace("{public_id}", missing)
    for name, missing in MISSING.items():
        path = path.replace("{" + name + "}", missing)
    assert "{" not in path, path
    return path


def test_every_miss_on_a_named_object_leaves_an_audit_entry(sqlite_context: AppContext) -> None:
    app = create_app(sqlite_context)
    factory = StaffFactory(sqlite_context)
    lookups = [
        (route, method)
        for route in api_routes(app)
        if "{" in route.path and route.permission is not None
        for method in sorted(route.methods - {"HEAD"})
        if (method, route.path) not in NOT_LOOKUPS
    ]
    assert len(lookups) >= 25
    unaudited, not_missing = [], []
    with TestClient(app, base_url=PUBLIC_URL) as client:
        for route, method in lookups:
            role = next(role for role in Role if route.permission in PERMISSIONS[role])
            headers = factory.headers(role, f"misses-{len(factory.made)}")
            body = BODIES.get((method, route.path))
            response = client.request(method, concrete(route.path), json=body, headers=headers)
            if response.status_code != 404:
                not_missing.append(f"{method} {route.path}: {response.status_code}")
                continue
            request_id = response.json()["request_id"]
            entries = audit_entries(sqlite_context, AuditEntry.request_id == request_id)
            if "not_found" not in {entry.outcome for entry in entries}:
                unaudited.append(f"{method} {route.path}")
    assert not_missing == [], "\n".join(not_missing)
    assert unaudited == [], "\n".join(unaudited)
