"""While the database cannot be reached (restarting, failing over) webhooks and the API
answer 503 at once with Retry-After, so Twilio retries; /readyz says why."""

from __future__ import annotations

from pathlib import Path

from services.app.factory import build_context
from tests.ports import free_port
from tests.support import TEST_ACCOUNT_SID, TwilioClient, call_sid, make_settings, served


def test_webhooks_get_503_and_readyz_says_the_database_is_unavailable(tmp_path: Path) -> None:
    closed = free_port()
    settings = make_settings(
        f"postgresql+psycopg://postgres@127.0.0.1:{closed}/switchboard", tmp_path / "var"
    )
    context = build_context(settings)
    with served(context) as client:
        answer = TwilioClient(client).post(
            "/twilio/voice/status",
            {
                "AccountSid": TEST_ACCOUNT_SID,
                "CallSid": call_sid(),
                "CallStatus": "completed",
                "From": "+13025550123",
                "To": "+13025550311",
                "Direction": "inbound",
                "CallDuration": "30",
                "SequenceNumber": "3",
            },
        )
        assert answer.status_code == 503, answer.text
        assert answer.headers["retry-after"] == "5"
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "+13025550123" not in answer.text
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["database"] == "unavailable"
    context.engine.dispose()
