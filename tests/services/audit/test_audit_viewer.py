"""The audit viewer: filtered by staff name, action and dates; the filtered view
downloaded as CSV, the download audited too."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

from services.platform.context import AppContext
from services.platform.models import AuditEntry
from tests.support import StaffFactory, audit_entries


def test_filtered_by_staff_name_and_exported_as_csv(
    client: TestClient, staff: StaffFactory, context: AppContext
) -> None:
    officer = staff.headers("privacy_officer", "pia")
    agent = staff.headers("agent", "Ana")
    for typed in ("(202) 555-0142", "=cmd|' /C calc'!A0"):
        client.post("/api/calls/search", json={"phone": typed}, headers=agent)
    client.get("/api/calls", headers=staff.headers("supervisor", "sam"))

    mine = client.get("/api/audit", params={"actor_name": "ANA"}, headers=officer).json()
    assert {entry["actor_name"] for entry in mine["items"]} == {"ana"}
    assert {entry["action"] for entry in mine["items"]} == {"calls.search"}
    searches = client.get(
        "/api/audit", params={"actor_name": "ana", "action": "calls.search"}, headers=officer
    ).json()["items"]
    assert len(searches) == 2

    exported = client.get("/api/audit/export.csv", params={"actor_name": "ana"}, headers=officer)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    assert exported.headers["content-disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert len(rows) == 2 and {row["actor_name"] for row in rows} == {"ana"}
    assert all(not row["detail"].startswith(("=", "+", "-", "@")) for row in rows)
    assert "555" not in exported.text

    done = audit_entries(context, AuditEntry.action == "audit.export")
    assert len(done) == 1 and done[0].actor_name == "pia"
    assert done[0].detail == {"results": 2, "filters": ["actor_name"], "format": "csv"}
    assert client.get("/api/audit/export.csv", headers=agent).status_code == 403
