"""The call bar's side of the event stream and pages: ``answered`` once an agent's leg
of a shown call is picked up, the bar on the pages of those who take calls only, and
one page per request that holds nothing personal as served."""

from __future__ import annotations

from fastapi.testclient import TestClient

from services.platform.context import AppContext
from services.platform.roles import Role
from tests.services.console.test_console import (
    account,
    app_client,  # noqa: F401 (a fixture)
    console_context,  # noqa: F401 (a fixture)
    csrf_of,
    events_of,
    signed_in,
)
from tests.support import TwilioClient, call_sid


def test_the_stream_says_when_a_shown_call_is_picked_up(
    app_client: TestClient,  # noqa: F811
    console_context: AppContext,  # noqa: F811
) -> None:
    account(console_context, "ana", Role.AGENT, "3")
    agent = signed_in(app_client.app, "ana")
    twilio = TwilioClient(app_client)
    picked, waiting = call_sid(), call_sid()
    for sid in (picked, waiting):
        twilio.ring(sid)
        twilio.press(sid, "3")
    leg = twilio.call_params(
        call_sid(), "in-progress", ParentCallSid=picked, Direction="outbound-dial"
    )
    assert twilio.post("/twilio/voice/status", leg).status_code == 204

    events = events_of(agent.get("/console/events", headers={"Accept": "text/event-stream"}).text)
    names = [(name, data.get("call_sid")) for name, data in events]
    assert ("answered", picked) in names and ("answered", waiting) not in names
    assert names.index(("ring", picked)) < names.index(("answered", picked))
    assert names.count(("answered", picked)) == 1  # said once per stream


def test_the_bar_and_the_request_page(
    app_client: TestClient,  # noqa: F811
    console_context: AppContext,  # noqa: F811
) -> None:
    account(console_context, "ana", Role.AGENT, "3")
    account(console_context, "pia", Role.PRIVACY_OFFICER)
    agent = signed_in(app_client.app, "ana")
    page = agent.get("/console/requests/search").text
    assert "data-call-bar" in page and "/static/callbar.js" in page
    assert page.count('id="presence-state"') == 1  # in the bar, no longer in the navigation
    officer = signed_in(app_client.app, "pia")
    assert "data-call-bar" not in officer.get("/console/requests/search").text

    token = csrf_of(page)
    filed = agent.post(
        "/api/requests",
        json={"service_code": "pothole", "contact": {"name": "Rosa Diaz", "phone": "2025550142"}},
        headers={"X-CSRF-Token": token},
    ).json()["id"]
    shown = agent.get(f"/console/requests/{filed}")
    assert shown.status_code == 200
    assert "Rosa" not in shown.text and "555" not in shown.text  # the script reads them
    assert '"pothole": "Pothole"' in shown.text.replace("&#34;", '"')
    assert officer.get(f"/console/requests/{filed}").status_code == 200
    assert agent.get("/console/requests/not-a-number").status_code in (404, 422)
