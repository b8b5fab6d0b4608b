"""Helpers the tests share: a Twilio that signs its webhooks, and staff accounts."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime

import httpx
from fastapi.testclient import TestClient

from services.context import AppContext
from services.roles import Role
from services.staff import service as staff_service
from telephony.signature import sign


def call_sid() -> str:
    return "CA" + secrets.token_hex(16)


def rfc2822(instant: datetime) -> str:
    return format_datetime(instant)


@dataclass
class TwilioClient:
    client: TestClient
    public_url: str
    auth_token: str
    account_sid: str

    def post(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        signature: str | None = None,
        unsigned: bool = False,
    ) -> httpx.Response:
        """POST ``params`` to ``path`` (which may carry a query) with Twilio's signature."""
        url = self.public_url + path
        headers = {}
        if not unsigned:
            headers["X-Twilio-Signature"] = signature or sign(self.auth_token, url, dict(params))
        return self.client.post(path, data=dict(params), headers=headers)

    def call_params(self, sid: str, status: str, **extra: str) -> dict[str, str]:
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": "2010-04-01",
            "CallSid": sid,
            "CallStatus": status,
            "Direction": "inbound",
            "From": "+12025550142",
            "To": "+12025550100",
        }
        params.update(extra)
        return params


@dataclass
class StaffFactory:
    context: AppContext
    made: dict[str, str] = field(default_factory=dict)

    def token(self, role: Role | str, username: str | None = None) -> str:
        role = Role(role)
        name = username or f"{role.value.replace('_', '-')}-{len(self.made) + 1}"
        now = self.context.clock.now()
        with self.context.sessions.begin() as session:
            staff_service.create_user(
                session, username=name, role=role, password="correct horse battery", now=now
            )
            token, _ = staff_service.issue_token(session, username=name, days=30, now=now)
        self.made[name] = token
        return token

    def headers(self, role: Role | str, username: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, username)}"}
