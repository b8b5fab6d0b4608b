"""Consents to updates, update emails and news-alert subscriptions are personal data:
an access request's export shows them, found by the person's email and phone, and a
sign-up that was never confirmed is purged once its link has expired."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa
from fastapi.testclient import TestClient

from services.alerts.models import AlertSignup
from services.platform.audit import SYSTEM
from services.platform.clock import ManualClock
from services.platform.context import AppContext
from services.retention import actions as retention
from services.updates import actions as updates
from tests.support import StaffFactory, access_export, confirmed_subscriber, filed_request

EMAIL = "dolores@example.org"


def test_an_access_request_exports_consents_emails_and_the_alert_subscription(
    client: TestClient, context: AppContext, staff: StaffFactory, officer: dict[str, str]
) -> None:
    agent = staff.headers("agent")
    filed = filed_request(
        client,
        agent,
        service_code="pothole",
        contact={"email": EMAIL, "phone": "(302) 555-0161"},
        updates={"email": True, "sms": True},
    )
    client.post(f"/api/requests/{filed['id']}/status", json={"status": "closed"}, headers=agent)
    updates.tell_due(context)
    confirmed_subscriber(context, EMAIL, language="es")
    data = access_export(
        client,
        officer,
        {"email": EMAIL},
        export_headers=staff.headers("privacy_officer", "pat-export"),
        channel="email",
        identity_evidence="Answered from the address on file",
    ).json()
    assert {item["channel"] for item in data["request_updates"]} == {"email"}
    assert data["request_updates"][0]["request"] == filed["id"]
    assert [email["kind"] for email in data["emails_sent"]] == ["update"]
    assert data["alert_subscription"][0]["language"] == "es"


def test_an_unconfirmed_sign_up_is_purged_after_its_link_expired(
    client: TestClient, context: AppContext, clock: ManualClock
) -> None:
    assert client.post("/public/alerts/subscribe", json={"email": EMAIL}).status_code == 202
    before = clock.now()
    retention.run_retention(context, SYSTEM, as_of=before + timedelta(days=1))
    with context.db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AlertSignup)) == 1
    retention.run_retention(context, SYSTEM, as_of=before + timedelta(days=4))
    with context.db() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(AlertSignup)) == 0


def test_key_rotation_reseals_consents_emails_and_subscribers(
    client: TestClient, context: AppContext, staff: StaffFactory
) -> None:
    from services.platform import key_rotation
    from services.platform.personal_data import Registry

    agent = staff.headers("agent")
    filed = filed_request(
        client, agent, service_code="pothole", contact={"email": EMAIL}, updates={"email": True}
    )
    client.post(f"/api/requests/{filed['id']}/status", json={"status": "closed"}, headers=agent)
    updates.tell_due(context)
    confirmed_subscriber(context, EMAIL)
    with context.db.begin() as session:
        key_rotation.start_rotation(session, context.keyring, now=context.clock.now())
    counts = key_rotation.reseal(context.db, context.keyring, context.part(Registry))
    assert counts["update_subscriptions.to"] == 1
    assert counts["alert_subscribers.email"] == 1
    assert counts["outgoing_emails.to"] == 1 and counts["outgoing_emails.body"] == 1
    read = client.get(f"/api/requests/{filed['id']}", headers=agent).json()
    assert read["updates"][0]["to"] == EMAIL
    outbox = client.get("/api/email/outbox", headers=agent).json()["items"]
    assert outbox[0]["to"] == EMAIL and filed["id"] in outbox[0]["subject"]
