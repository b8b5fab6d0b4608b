"""Administrators add and remove menu keys and set how the line answers (its hours and
its welcome); callers hear the change on their next call."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from fastapi.testclient import TestClient

from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.platform.models import AuditEntry
from tests.support import OPEN_HOURS, StaffFactory, TwilioClient, audit_entries, call_sid


def said(text: str) -> list[str]:
    return [element.text or "" for element in ET.fromstring(text).iter("Say")]


NEW_KEY = {
    "digits": "6",
    "name_en": "parks and trees",
    "name_es": "parques y árboles",
    "destination": "client:parks",
}


def test_an_administrator_adds_and_removes_a_menu_key(
    client: TestClient, twilio: TwilioClient, staff: StaffFactory, context: AppContext
) -> None:
    admin = staff.headers("admin", "root")
    added = client.post("/api/extensions", json=NEW_KEY, headers=admin)
    assert added.status_code == 201, added.text
    assert added.json()["record_calls"] is True
    menu = said(twilio.post("/twilio/voice", twilio.call_params(call_sid(), "ringing")).text)
    assert menu[-1].endswith("For parks and trees, press 6.")  # read last

    for digits, why in (("6", "already"), ("9", "Spanish"), ("12", "key 1")):
        refused = client.post("/api/extensions", json={**NEW_KEY, "digits": digits}, headers=admin)
        assert refused.status_code == 422, digits
        assert refused.json()["errors"][0]["field"] == "digits"
        assert why in refused.json()["errors"][0]["message"]

    assert client.delete("/api/extensions/6", headers=admin).status_code == 204
    menu = said(twilio.post("/twilio/voice", twilio.call_params(call_sid(), "ringing")).text)
    assert "parks" not in " ".join(menu)
    assert client.delete("/api/extensions/6", headers=admin).status_code == 404
    # The operator's key is where callers go after three misses.
    assert client.delete("/api/extensions/0", headers=admin).status_code == 409
    # A department whose calls someone takes stays until they are moved.
    taken = client.post(
        "/api/staff",
        json={"username": "dee", "role": "knowledge_editor", "department": "5"},
        headers=admin,
    )
    assert taken.status_code == 201, taken.text
    busy = client.delete("/api/extensions/5", headers=admin)
    assert busy.status_code == 409 and "1 staff account" in busy.json()["detail"]
    actions = [entry.action for entry in audit_entries(context, AuditEntry.actor_name == "root")]
    assert actions.count("config.extension_add") == 4
    assert actions.count("config.extension_remove") == 4

    agent = staff.headers("agent", "ana")
    assert client.post("/api/extensions", json=NEW_KEY, headers=agent).status_code == 403
    assert client.delete("/api/extensions/1", headers=agent).status_code == 403


def test_an_administrator_sets_the_hours_and_the_welcome(
    client: TestClient, twilio: TwilioClient, staff: StaffFactory, clock: ManualClock
) -> None:
    admin = staff.headers("admin", "root")
    clock.set(OPEN_HOURS)  # a Wednesday, 10:00 in New York
    line = client.get("/api/ivr/line", headers=admin).json()
    assert line["hours_set"] is False and line["open_now"] is True
    assert line["welcome_en"] is None

    bad = client.patch("/api/ivr/line", json={"hours": "weekdays 8 to 6"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "hours"
    changed = client.patch(
        "/api/ivr/line",
        json={
            "hours": "mon-tue 08:00-18:00",
            "welcome_en": "You have reached the city of Springfield's 311 line.",
            "welcome_es": "Ha llamado a la línea 311 de Springfield.",
        },
        headers=admin,
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["open_now"] is False  # closed on Wednesdays now
    closed = said(twilio.post("/twilio/voice", twilio.call_params(call_sid(), "ringing")).text)
    assert closed[0] == "You have reached the city of Springfield's 311 line."
    assert "recorded for quality assurance" in closed[1]  # the notice is kept
    assert any("not available at this hour" in line for line in closed)

    reopened = client.patch("/api/ivr/line", json={"hours": ""}, headers=admin)
    assert reopened.json()["hours_set"] is False and reopened.json()["open_now"] is True
    sid = twilio.ring()
    spanish = said(twilio.press(sid, "9").text)
    assert spanish[0] == "Ha llamado a la línea 311 de Springfield."

    standard = client.patch("/api/ivr/line", json={"welcome_en": ""}, headers=admin)
    assert standard.json()["welcome_en"] is None
    menu = said(twilio.post("/twilio/voice", twilio.call_params(call_sid(), "ringing")).text)
    assert menu[0].startswith("Thank you for calling")
    agent = staff.headers("agent", "ana")
    assert client.patch("/api/ivr/line", json={"hours": ""}, headers=agent).status_code == 403
