"""The staff API's resources: console sessions, the second factor, accounts and tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from services.platform.resources import resource
from services.platform.roles import Role
from services.staff.models import ApiToken, StaffUser
from services.staff.service import MIN_PASSWORD_LENGTH

# -- console sessions ------------------------------------------------------------------


class SignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)
    totp_code: str | None = Field(default=None, pattern=r"^[0-9 ]{6,9}$")
    new_password: str | None = Field(
        default=None,
        max_length=1024,
        description="Only when signing in with a temporary password: the one to use from now",
    )


class SessionOut(BaseModel):
    username: str
    role: Role
    csrf_token: str = Field(description="Send it as X-CSRF-Token on every unsafe request")
    expires_at: datetime
    idle_timeout_seconds: int
    second_factor: Literal["done", "not_used", "enrolment_required"]


@dataclass(frozen=True)
class SessionStarted:
    """A new console session: its token goes in the cookie, and nowhere else."""

    token: str
    cookie_seconds: int
    session: SessionOut


class TotpEnrolment(BaseModel):
    provisioning_uri: str = Field(description="For an authenticator app; holds the secret")


class TotpReplacement(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_code: str | None = Field(
        default=None,
        pattern=r"^[0-9 ]{6,9}$",
        description="A current code from the factor in use; needed to replace it",
    )


class TotpCode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=r"^[0-9 ]{6,9}$")


# -- accounts and tokens ---------------------------------------------------------------


class StaffOut(BaseModel):
    id: int
    username: str
    role: Role
    disabled: bool
    second_factor: bool
    locked_until: datetime | None
    created_at: datetime
    extension: str | None = None
    approved: bool = Field(
        default=True, description="False until a second person approves the account"
    )
    pending_role: Role | None = Field(
        default=None, description="A change of role waiting for a second person"
    )
    destination: str | None = Field(
        default=None, description="Where this person's calls ring: E.164, sip: URI or client:NAME"
    )
    department: str | None = Field(default=None, description="The menu key whose calls they take")
    presence: str = "away"
    locked: bool = Field(
        default=False, description="Locked now after too many failed sign-ins (until locked_until)"
    )
    last_sign_in_at: datetime | None = Field(
        default=None, description="When the account last signed in to the console"
    )
    temporary_password_until: datetime | None = Field(
        default=None,
        description="A temporary password set by an administrator waits to be replaced until then",
    )

    @classmethod
    def of(cls, user: StaffUser, tz: ZoneInfo, *, now: datetime | None = None) -> StaffOut:
        def local(value: datetime | None) -> datetime | None:
            return None if value is None else value.astimezone(tz)

        return resource(
            cls,
            user,
            role=Role(user.role),
            disabled=user.disabled_at is not None,
            second_factor=user.totp_enabled_at is not None,
            locked_until=None if user.locked_until is None else user.locked_until.astimezone(tz),
            created_at=user.created_at.astimezone(tz),
            approved=user.approved_at is not None,
            pending_role=Role(user.pending_role) if user.pending_role else None,
            locked=user.locked_until is not None and (now is None or user.locked_until > now),
            last_sign_in_at=local(user.last_sign_in_at),
            temporary_password_until=local(user.password_temporary_until),
        )


class StaffList(BaseModel):
    items: list[StaffOut]


class AwaitingOut(BaseModel):
    """An account, or a change of its role, waiting for a second person."""

    id: int = Field(description="The account's id")
    username: str
    kind: Literal["account", "role"]
    role: Role = Field(description="The role that approval would put in force")
    current_role: Role | None = Field(description="For a change of role, the role now")
    requested_by: str | None
    requested_at: datetime | None


class AwaitingList(BaseModel):
    items: list[AwaitingOut]


class Approval(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role = Field(
        description="The role being approved, as the approver saw it: if what waits has "
        "changed since, the approval is refused (409)"
    )


class NewStaff(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=2, max_length=63)
    role: Role
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=1024)
    destination: str | None = Field(
        default=None,
        min_length=1,
        max_length=200,
        description="Where this person's calls ring: an E.164 number, a sip: URI or client:NAME",
    )
    department: str | None = Field(
        default=None, pattern=r"^[0-9]{1,8}$", description="The menu key whose calls they take"
    )


class StaffChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    disabled: bool | None = None
    extension: str | None = Field(
        default=None,
        pattern=r"^[0-9]{0,8}$",
        description="Directory digits whose calls pop on this person's screen; empty clears",
    )
    destination: str | None = Field(
        default=None,
        max_length=200,
        description="Where this person's calls ring (E.164, sip: URI, client:NAME); empty clears",
    )
    department: str | None = Field(
        default=None,
        pattern=r"^[0-9]{0,8}$",
        description="The menu key whose calls are offered to this person; empty clears",
    )


PresenceState = Literal["available", "busy", "wrap_up", "away"]


class PresenceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: PresenceState


class PresenceOut(BaseModel):
    state: PresenceState
    since: datetime | None = Field(description="When this state began (idle time counts from it)")
    destination: str | None
    department: str | None


class NewPassword(BaseModel):
    model_config = ConfigDict(extra="forbid")

    password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1024)


class TemporaryPassword(BaseModel):
    """A temporary password, shown once to the administrator who set it."""

    username: str
    temporary_password: str = Field(description="Shown once; never stored in clear")
    expires_at: datetime = Field(description="It must be replaced at a sign-in before then")
    tokens_revoked: int
    awaits_approval: bool = Field(
        description="The account waits for a second person's approval before it can sign in"
    )


class TokenOut(BaseModel):
    id: int
    username: str
    label: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, token: ApiToken, username: str) -> TokenOut:
        return resource(
            cls,
            token,
            username=username,
        )


class TokenList(BaseModel):
    items: list[TokenOut]


@dataclass(frozen=True)
class IssuedToken:
    """A new bearer token: shown once to whoever asked for it, never stored."""

    token: str
    id: int
