"""The ServiceRequest resource of the staff API. Optional fields say so, so the call
taker can tell the caller what they need not give."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from services.platform.params import CALL_SID_PATTERN
from services.platform.resources import resource
from services.requests.models import ServiceRequest
from services.requests.service import ContactView, contact_view
from services.updates.schemas import UpdateConsentOut, UpdatesIn
from storage.crypto import Keyring

OPTIONAL = "Optional: the caller may decline to give it."


class ContactIn(BaseModel):
    """How to reach the caller. Every field is optional; none is kept for an anonymous request."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200, description=OPTIONAL)
    phone: str | None = Field(
        default=None, max_length=64, description=OPTIONAL + " Any common format."
    )
    email: str | None = Field(default=None, max_length=254, description=OPTIONAL)
    address: str | None = Field(
        default=None, max_length=255, description=OPTIONAL + " Home address."
    )


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    service_code: str = Field(min_length=1, max_length=64, description="From GET /api/services")
    description: str | None = Field(default=None, max_length=4000, description="Optional.")
    address: str | None = Field(
        default=None, max_length=255, description="Optional: where the problem is."
    )
    lat: float | None = Field(default=None, ge=-90, le=90, description="Optional, with long.")
    long: float | None = Field(default=None, ge=-180, le=180, description="Optional, with lat.")
    call_sid: str | None = Field(
        default=None,
        max_length=64,
        pattern=CALL_SID_PATTERN,
        description="Optional: the call it came from.",
    )
    anonymous: bool = Field(
        default=False,
        description=(
            "The caller asked to stay anonymous: no contact and no call link are kept, "
            "and the city cannot reach them."
        ),
    )
    contact: ContactIn | None = Field(default=None, description=OPTIONAL)
    updates: UpdatesIn | None = Field(
        default=None,
        description=(
            "Optional: the caller's consent to be told of changes, by text to the "
            "contact's mobile and by email to the contact's email."
        ),
    )


class ContactOut(BaseModel):
    name: str | None
    phone: str | None
    email: str | None
    address: str | None

    @classmethod
    def of(cls, view: ContactView) -> ContactOut:
        return cls(name=view.name, phone=view.phone, email=view.email, address=view.address)


class StatusChangeOut(BaseModel):
    status: str
    note: str | None
    public: bool
    changed_at: datetime


class RequestOut(BaseModel):
    id: str = Field(description="The request number, e.g. SR-7K3MX-9Q2DA")
    service_code: str
    description: str
    address: str | None
    lat: float | None
    long: float | None
    status: str
    status_notes: str | None = Field(description="The latest note published (unfiltered)")
    public_description: str | None = Field(
        description="The description as reviewed for the public feed; null until reviewed"
    )
    channel: str
    anonymous: bool
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    contact: ContactOut | None
    calls: list[str]
    history: list[StatusChangeOut]
    possible_duplicates: list[str]
    updates: list[UpdateConsentOut] = Field(
        default_factory=list, description="The caller's consent to updates, per channel"
    )

    @classmethod
    def of(cls, request: ServiceRequest, keyring: Keyring, tz: ZoneInfo) -> RequestOut:
        view = contact_view(keyring, request)
        return resource(
            cls,
            request,
            id=request.public_id,
            created_at=request.created_at.astimezone(tz),
            updated_at=request.updated_at.astimezone(tz),
            closed_at=None if request.closed_at is None else request.closed_at.astimezone(tz),
            contact=None if view is None else ContactOut.of(view),
            calls=[link.call_sid for link in request.calls],
            history=[
                StatusChangeOut(
                    status=change.status,
                    note=change.note,
                    public=change.public,
                    changed_at=change.changed_at.astimezone(tz),
                )
                for change in request.history
            ],
            possible_duplicates=list(request.possible_duplicates),
        )


class RequestSearch(BaseModel):
    """Exactly one of the four keys. The term travels in the body, never in the URL."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = Field(default=None, min_length=1, max_length=64)
    email: str | None = Field(default=None, min_length=1, max_length=254)
    name: str | None = Field(default=None, min_length=1, max_length=200)
    address: str | None = Field(default=None, min_length=1, max_length=255)

    @model_validator(mode="after")
    def _exactly_one(self) -> RequestSearch:
        given = [key for key in ("phone", "email", "name", "address") if getattr(self, key)]
        if len(given) != 1:
            raise ValueError("give exactly one of phone, email, name or address")
        return self

    def key(self) -> tuple[str, str]:
        for kind in ("phone", "email", "name", "address"):
            value = getattr(self, kind)
            if value:
                return kind, value
        raise AssertionError("validated to hold one key")


class RequestList(BaseModel):
    items: list[RequestOut]


class StatusChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: Literal["open", "in_progress", "closed"]
    note: str | None = Field(default=None, max_length=4000)
    public: bool = Field(
        default=False,
        description=(
            "Publish the note on the public Open311 feed, where anyone can read it "
            "(numbers, emails and names are filtered out, but write nothing personal). "
            "Notes are private unless this is true; PUBLIC_TEXT=none publishes none."
        ),
    )


class DescriptionReview(BaseModel):
    """What the public feed may show of a request's description (PUBLIC_TEXT=reviewed):
    the description as staff read and approved or rewrote it, or null to withdraw it."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(max_length=4000)


class ReviewQueue(BaseModel):
    """Requests whose description waits for review before the public feed may show it."""

    items: list[RequestOut]
    next_cursor: None = Field(default=None, description="Always null: one page, newest first")


class ContactCorrection(BaseModel):
    """Corrections to a contact: given fields replace the stored ones; ``clear`` erases."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=254)
    address: str | None = Field(default=None, max_length=255)
    clear: list[Literal["name", "phone", "email", "address"]] = Field(default_factory=list)


class ScreenPopOut(BaseModel):
    call_sid: str
    caller_withheld: bool
    items: list[RequestOut]


class RingingCallOut(ScreenPopOut):
    """A call ringing on an agent's extension with its screen pop, as the console shows it."""

    extension: str | None
    started_at: datetime
    from_number: str | None = Field(description="E.164; null when the caller ID was withheld")


class ServiceOut(BaseModel):
    """A service of the catalogue as its row holds it (``ServiceOut.model_validate(row)``)."""

    model_config = ConfigDict(from_attributes=True)

    code: str
    name: str
    description: str
    department: str
    group: str
    keywords: list[str]
    active: bool

    @field_validator("keywords", mode="before")
    @classmethod
    def _listed(cls, value: object) -> object:
        # The catalogue keeps a service's keywords in one comma-separated column.
        return [word for word in value.split(",") if word] if isinstance(value, str) else value


class ServiceList(BaseModel):
    items: list[ServiceOut]


def _keywords(value: list[str]) -> list[str]:
    """Keywords as the catalogue keeps them: lower case, no commas (they separate them
    in the one column), at most 255 characters together."""
    words = [word.strip().lower() for word in value if word.strip()]
    if any("," in word for word in words):
        raise ValueError("a keyword cannot hold a comma")
    if len(",".join(words)) > 255:
        raise ValueError("the keywords together are longer than 255 characters")
    return list(dict.fromkeys(words))


Keywords = Annotated[list[str], AfterValidator(_keywords)]


class ServiceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=2, max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")
    name: str = Field(min_length=2, max_length=120)
    description: str = Field(default="", max_length=2000)
    department: str = Field(min_length=2, max_length=120)
    group: str = Field(min_length=2, max_length=80)
    keywords: Keywords = Field(default_factory=list, max_length=20)
    active: bool = True


class ServiceChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=2, max_length=120)
    description: str | None = Field(default=None, max_length=2000)
    department: str | None = Field(default=None, min_length=2, max_length=120)
    group: str | None = Field(default=None, min_length=2, max_length=80)
    keywords: Keywords | None = Field(default=None, max_length=20)
    active: bool | None = None


class DuplicateCheck(BaseModel):
    """What a request about to be filed is for and where: its possible duplicates are
    open requests for the same service near the same place, filed recently."""

    model_config = ConfigDict(extra="forbid")

    service_code: str = Field(min_length=1, max_length=64)
    address: str | None = Field(default=None, max_length=255)
    lat: float | None = Field(default=None, ge=-90, le=90)
    long: float | None = Field(default=None, ge=-180, le=180)


class RequestBrief(BaseModel):
    """A request as a list shows it: no contact, the service by name."""

    id: str
    service_code: str
    service_name: str
    status: str
    address: str | None
    created_at: datetime


class DuplicateList(BaseModel):
    items: list[RequestBrief]
