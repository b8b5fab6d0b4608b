"""Filing, reading, searching and updating service requests.

Contact fields are sealed with the keyring (bound to table, column and the request's
public id) and found through blind indexes; a search confirms every candidate by
decrypting it. An anonymous request keeps nothing that could identify or reach the
caller: no contact, no call, no filing agent, its free text scrubbed, its times to
the hour. Functions raise InvalidField (422) for input a caller can correct.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import CompoundSelect, Select, and_, exists, func, intersect, select
from sqlalchemy.orm import Session, aliased, selectinload

from services.calls.service import get_call, party_number
from services.platform import public_ids, ssn
from services.platform.errors import InvalidField, Problem
from services.platform.phones import InvalidPhoneNumber, normalise
from services.requests import catalogue
from services.requests.models import (
    ContactNameToken,
    RequestCall,
    RequestContact,
    RequestStatusChange,
    ServiceRequest,
)
from services.requests.text import (
    address_words,
    canonical_address,
    name_tokens,
    normalise_email,
    scrub,
    without_street_numbers,
)
from storage.crypto import FieldContext, Keyring

STATUSES = ("open", "in_progress", "closed")
MAX_DESCRIPTION = 4000
MAX_ADDRESS = 255
MAX_SEARCH_RESULTS = 100
EARTH_RADIUS_METERS = 6_371_000
# The same change by the same person again this soon is a retry (a double click, a
# client that did not hear the answer), not a second step: it would be told twice.
REPEAT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class ContactDetails:
    """What a caller chose to give; every field optional."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    address: str | None = None

    def is_empty(self) -> bool:
        return not any((self.name, self.phone, self.email, self.address))


@dataclass(frozen=True)
class NewRequest:
    service_code: str
    description: str = ""
    address: str | None = None
    lat: float | None = None
    long: float | None = None
    call_sid: str | None = None
    anonymous: bool = False
    contact: ContactDetails | None = None
    channel: str = "phone"
    # The civic app's receipt for an Open311 submission (GET /open311/v2/tokens/...).
    open311_token: str | None = None
    # Open311's optional media link and address-repository id.
    media_url: str | None = None
    address_id: str | None = None


PUBLIC_TEXT_MODES = ("none", "filtered", "reviewed")


@dataclass(frozen=True)
class PublicText:
    """What the public feed (Open311) carries of a request's free text (PUBLIC_TEXT).

    - ``none``: no description and no notes, only the service, status, place and times.
    - ``filtered``: the description and the notes staff chose to publish, through the
      personal-data filter.
    - ``reviewed`` (the default): only the text staff reviewed and published (the
      description they approved, the notes they chose to publish), through the filter.

    The filter finds numbers, emails, SSN-like numbers, the contact's own name and home
    address numbers, and names by their cues; it cannot find every name, so what reaches
    the public by default is what a person has read first.
    """

    mode: str = "reviewed"

    def __post_init__(self) -> None:
        if self.mode not in PUBLIC_TEXT_MODES:
            raise ValueError(f"PUBLIC_TEXT must be one of {', '.join(PUBLIC_TEXT_MODES)}")


@dataclass(frozen=True)
class DuplicatePolicy:
    window: timedelta = timedelta(hours=72)
    radius_meters: float = 50.0


@dataclass
class NormalContact:
    name: str | None = None
    name_tokens: list[str] = field(default_factory=list)
    phone: str | None = None
    email: str | None = None
    address: str | None = None
    address_key: str | None = None


def new_public_id() -> str:
    """A random request number like SR-7K3MX-9Q2DA: it says nothing about when or by whom."""
    return public_ids.public_id("SR", 5, 5)


def _clean_text(field_name: str, text: str | None, *, public: bool) -> str:
    """Staff text: refused if it holds an SSN-like number. Public text: SSNs redacted."""
    value = (text or "").strip()
    if len(value) > MAX_DESCRIPTION:
        raise InvalidField(field_name, f"may be at most {MAX_DESCRIPTION} characters")
    if public:
        return ssn.redact(value)
    ssn.refuse(field_name, value)
    return value


def normalise_contact(contact: ContactDetails, *, region: str, public: bool) -> NormalContact:
    """Validate and normalise a contact; InvalidField names the field at fault."""
    normal = NormalContact()
    if contact.name:
        name = _clean_text("contact.name", contact.name, public=public)[:200]
        normal.name, normal.name_tokens = name or None, name_tokens(name)
    if contact.phone:
        try:
            normal.phone = normalise(contact.phone, region)
        except InvalidPhoneNumber as exc:
            raise InvalidField("contact.phone", str(exc)) from exc
    if contact.email:
        try:
            normal.email = normalise_email(contact.email)
        except ValueError as exc:
            raise InvalidField("contact.email", str(exc)) from exc
    if contact.address:
        address = _clean_text("contact.address", contact.address, public=public)
        normal.address = address[:255] or None
        normal.address_key = canonical_address(address) or None
    return normal


def _context(column: str, request: ServiceRequest) -> FieldContext:
    return FieldContext("request_contacts", column, request.public_id)


def sealed_contact(
    keyring: Keyring, public_id: str, normal: NormalContact
) -> tuple[dict[str, bytes | None], list[bytes]]:
    """The sealed columns and name-token indexes of a contact of request ``public_id``."""

    def seal(column: str, value: str | None) -> bytes | None:
        place = FieldContext("request_contacts", column, public_id)
        return None if value is None else keyring.seal(value, place)

    columns = {
        "name_sealed": seal("name", normal.name),
        "phone_sealed": seal("phone", normal.phone),
        "phone_index": keyring.blind_index("phone", normal.phone) if normal.phone else None,
        "email_sealed": seal("email", normal.email),
        "email_index": keyring.blind_index("email", normal.email) if normal.email else None,
        "address_sealed": seal("address", normal.address),
        "address_index": (
            keyring.blind_index("address", normal.address_key) if normal.address_key else None
        ),
    }
    tokens = [keyring.blind_index("name-token", token) for token in normal.name_tokens]
    return columns, tokens


def _seal_contact(
    keyring: Keyring, request: ServiceRequest, contact: RequestContact, normal: NormalContact
) -> None:
    columns, tokens = sealed_contact(keyring, request.public_id, normal)
    for name, value in columns.items():
        setattr(contact, name, value)
    contact.name_tokens = [ContactNameToken(token_index=token) for token in tokens]


@dataclass(frozen=True)
class ContactView:
    name: str | None
    phone: str | None
    email: str | None
    address: str | None


def contact_view(keyring: Keyring, request: ServiceRequest) -> ContactView | None:
    """The request's contact, decrypted (None for none)."""
    contact = request.contact
    if contact is None:
        return None

    def open_(column: str, sealed: bytes | None) -> str | None:
        return None if sealed is None else keyring.open(sealed, _context(column, request))

    return ContactView(
        name=open_("name", contact.name_sealed),
        phone=open_("phone", contact.phone_sealed),
        email=open_("email", contact.email_sealed),
        address=open_("address", contact.address_sealed),
    )


def _distance_meters(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_METERS * math.asin(math.sqrt(h))


def find_possible_duplicates(
    session: Session,
    *,
    service_code: str,
    address_key: str | None,
    point: tuple[float, float] | None,
    now: datetime,
    policy: DuplicatePolicy,
) -> list[str]:
    """Open requests for the same service near the same place within the window."""
    if address_key is None and point is None:
        return []
    candidates = session.scalars(
        select(ServiceRequest)
        .where(
            ServiceRequest.service_code == service_code,
            ServiceRequest.status != "closed",
            ServiceRequest.created_at >= now - policy.window,
        )
        .order_by(ServiceRequest.created_at.desc())
        .limit(500)
    )
    found = []
    for other in candidates:
        same_address = address_key is not None and other.address_key == address_key
        near = (
            point is not None
            and other.lat is not None
            and other.long is not None
            and _distance_meters(point, (other.lat, other.long)) <= policy.radius_meters
        )
        if same_address or near:
            found.append(other.public_id)
    return found


def _validate_location(new: NewRequest) -> None:
    if (new.lat is None) != (new.long is None):
        missing = "long" if new.long is None else "lat"
        raise InvalidField(missing, "is needed with the other coordinate")
    if new.lat is not None and not -90 <= new.lat <= 90:
        raise InvalidField("lat", "must be between -90 and 90")
    if new.long is not None and not -180 <= new.long <= 180:
        raise InvalidField("long", "must be between -180 and 180")


def create_request(
    session: Session,
    keyring: Keyring,
    new: NewRequest,
    *,
    filed_by: int | None,
    now: datetime,
    region: str,
    duplicates: DuplicatePolicy,
) -> ServiceRequest:
    """File a request. Anonymous: no contact or call allowed, free text scrubbed, no
    filing agent, times to the hour. Staff text with an SSN-like number is refused;
    text from the public (``channel`` web, sms or open311) has it redacted."""
    public = new.channel in ("web", "sms", "open311")
    service = catalogue.get_service(session, new.service_code)
    if service is None or not service.active:
        raise InvalidField("service_code", "is not a service in the catalogue")
    _validate_location(new)
    if new.anonymous and new.contact is not None and not new.contact.is_empty():
        raise InvalidField("contact", "must be left out of an anonymous request")
    if new.anonymous and new.call_sid:
        raise InvalidField("call_sid", "must be left out of an anonymous request")
    description = _clean_text("description", new.description, public=public)
    address = _clean_text("address", new.address, public=public) or None
    if address is not None and len(address) > MAX_ADDRESS:
        # The column's size: PostgreSQL would refuse a longer one mid-transaction.
        raise InvalidField("address", f"may be at most {MAX_ADDRESS} characters")
    contact = None
    if new.contact is not None and not new.contact.is_empty():
        contact = normalise_contact(new.contact, region=region, public=public)
    if new.call_sid and get_call(session, new.call_sid) is None:
        raise InvalidField("call_sid", "is not a call in the call log")
    if new.anonymous:
        description = scrub(description, region, names=True)
        address = scrub(address, region) if address else None
        # An exact time and the agent would tie the request to the call it came from.
        now = now.replace(minute=0, second=0, microsecond=0)
        filed_by = None
    elif public:
        # Text from the public keeps no personal data in the clear: what the submitter
        # gave to be reached by lives in the sealed contact.
        description = scrub(
            description,
            region,
            also=contact.name_tokens if contact else (),
            numbers_of=address_words(contact.address if contact else None),
            names=True,
        )
    address_key = canonical_address(address) if address else None
    point = (new.lat, new.long) if new.lat is not None and new.long is not None else None
    request = ServiceRequest(
        public_id=new_public_id(),
        service_code=service.code,
        description=description,
        address=address,
        address_key=address_key,
        lat=new.lat,
        long=new.long,
        status="open",
        channel=new.channel,
        anonymous=new.anonymous,
        open311_token=new.open311_token,
        media_url=new.media_url,
        address_id=new.address_id,
        created_by_id=filed_by,
        created_at=now,
        updated_at=now,
        possible_duplicates=find_possible_duplicates(
            session,
            service_code=service.code,
            address_key=address_key,
            point=point,
            now=now,
            policy=duplicates,
        ),
    )
    request.history = [
        RequestStatusChange(
            status="open", note=None, public=True, changed_at=now, changed_by_id=filed_by
        )
    ]
    if new.call_sid:
        request.calls = [RequestCall(call_sid=new.call_sid)]
    session.add(request)
    if contact is not None:
        request.contact = RequestContact()
        _seal_contact(keyring, request, request.contact, contact)
    session.flush()
    return request


# What a request is shown with (its contact, calls and history), loaded with it.
_SHOWN_WITH = (
    selectinload(ServiceRequest.contact),
    selectinload(ServiceRequest.calls),
    selectinload(ServiceRequest.history),
)


def get_request(session: Session, public_id: str, *, lock: bool = False) -> ServiceRequest | None:
    """The request by its public id; ``lock`` holds its row until the transaction ends
    (on PostgreSQL; SQLite writes one at a time already)."""
    query = select(ServiceRequest).where(ServiceRequest.public_id == public_id)
    if lock:
        query = query.with_for_update(of=ServiceRequest)
    return session.scalar(query.options(*_SHOWN_WITH))


def change_status(
    session: Session,
    request: ServiceRequest,
    *,
    status: str,
    note: str | None,
    public: bool,
    changed_by: int | None,
    now: datetime,
    region: str,
) -> None:
    """Move a request to ``status`` with an optional note. The note is private unless
    ``public`` (staff chose to publish it; the public feed shows it filtered). 409 for
    the newest step again, word for word and by the same person, within
    ``REPEAT_WINDOW`` (read ``request`` locked, so that two at once find each other)."""
    if status not in STATUSES:
        raise InvalidField("status", f"must be one of {', '.join(STATUSES)}")
    text = _clean_text("note", note, public=False) or None
    if request.anonymous:
        # Hour-coarse like its filing time, but the hour after the change, not the one
        # it fell in: the request's updated time then always moves forward, so a client
        # polling for changes since its last poll still finds it (docs/open311.md).
        now = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        changed_by = None
        # An anonymous request keeps nothing that identifies the caller, notes included.
        text = scrub(text, region, names=True) if text else None
    last = request.history[-1] if request.history else None
    if (
        last is not None
        and (last.status, last.note, last.public, last.changed_by_id)
        == (status, text, public, changed_by)
        and last.changed_at > now - REPEAT_WINDOW
    ):
        raise Problem(
            409,
            "Already recorded",
            f"This request moved to {status} with the same note moments ago; "
            "change the note to record another step.",
        )
    request.history.append(
        RequestStatusChange(
            status=status, note=text, public=public, changed_at=now, changed_by_id=changed_by
        )
    )
    request.status = status
    request.updated_at = max(request.updated_at, now)
    if public and text:
        request.status_notes = text
    request.closed_at = now if status == "closed" else None
    session.flush()


def correct_contact(
    session: Session,
    keyring: Keyring,
    request: ServiceRequest,
    *,
    changes: ContactDetails,
    clear: frozenset[str] = frozenset(),
    now: datetime,
    region: str,
) -> None:
    """Correct a contact: fields given replace the stored ones, fields in ``clear`` are
    erased. An anonymous request has no contact to correct."""
    if request.anonymous:
        raise Problem(409, "Conflict", "An anonymous request holds no contact details.")
    current = contact_view(keyring, request) or ContactView(None, None, None, None)
    merged = ContactDetails(
        name=None if "name" in clear else (changes.name or current.name),
        phone=None if "phone" in clear else (changes.phone or current.phone),
        email=None if "email" in clear else (changes.email or current.email),
        address=None if "address" in clear else (changes.address or current.address),
    )
    if merged.is_empty():
        request.contact = None
    else:
        normal = normalise_contact(merged, region=region, public=False)
        if request.contact is None:
            request.contact = RequestContact()
        else:
            # The old name tokens go first: new ones may repeat them (a unique pair).
            request.contact.name_tokens.clear()
            session.flush()
        _seal_contact(keyring, request, request.contact, normal)
    request.updated_at = max(request.updated_at, now)
    session.flush()


@dataclass(frozen=True)
class SearchKey:
    """Exactly one of the four ways to find a caller's requests."""

    kind: str  # "phone", "email", "name" or "address"
    value: str


def normalised_term(key: SearchKey, region: str) -> str:
    """The search term in the form its blind index holds; InvalidField when unusable."""
    if key.kind == "phone":
        try:
            return normalise(key.value, region)
        except InvalidPhoneNumber as exc:
            raise InvalidField("phone", str(exc)) from exc
    if key.kind == "email":
        try:
            return normalise_email(key.value)
        except ValueError as exc:
            raise InvalidField("email", str(exc)) from exc
    if key.kind == "name":
        tokens = name_tokens(key.value)
        if not tokens:
            raise InvalidField("name", "needs at least one letter or digit")
        return " ".join(tokens)
    address = canonical_address(key.value)
    if not address:
        raise InvalidField("address", "needs at least one letter or digit")
    return address


# A name search starts from its rarest word: the contacts holding that word (when there
# are at most this many) are the candidates, each checked for the other words through
# the (contact_id, token_index) index. On SQLite, words are compared by a capped count of
# their index entries, so a common first name never costs more than this many to weigh.
RARE_WORD_LIMIT = 2_000


def _holding(index: bytes) -> Select[int]:
    return select(ContactNameToken.contact_id).where(ContactNameToken.token_index == index)


def _entries_up_to(indexes: list[bytes], cap: int) -> Select[Any]:
    """Each word's count of index entries, up to ``cap``, in one row (one round trip)."""
    return select(
        *(
            select(func.count())
            .select_from(_holding(index).limit(cap).subquery())
            .scalar_subquery()
            for index in indexes
        )
    )


def contacts_named(session: Session, indexes: set[bytes]) -> Select[int] | CompoundSelect[int]:
    """A query for the ids of contacts whose name holds every word of ``indexes``.

    PostgreSQL keeps statistics of the commonest words (ANALYZE, run by autovacuum), so
    its planner starts from the rarest word by itself: each word is a join through the
    (token_index, contact_id) index, in one round trip. SQLite has no statistics (the
    application never runs ANALYZE there), so the words are weighed first: when the
    rarest is rare enough, its contacts are checked for the other words; when every word
    is common, the words' contacts are intersected (each word's entries come sorted from
    the index, with no grouping or counting).
    """
    ordered = sorted(indexes)
    if session.get_bind().dialect.name == "postgresql":
        query = _holding(ordered[0])
        for other in ordered[1:]:
            word = aliased(ContactNameToken)
            query = query.join(
                word,
                and_(word.contact_id == ContactNameToken.contact_id, word.token_index == other),
            )
        return query
    counts = session.execute(_entries_up_to(ordered, RARE_WORD_LIMIT + 1)).one()
    weights = dict(zip(ordered, counts, strict=True))
    rarest = min(ordered, key=lambda index: weights[index])
    if weights[rarest] > RARE_WORD_LIMIT and len(ordered) > 1:
        return intersect(*(_holding(index) for index in ordered))
    query = _holding(rarest)
    for other in ordered:
        if other != rarest:
            word = aliased(ContactNameToken)
            query = query.where(
                exists().where(
                    word.contact_id == ContactNameToken.contact_id, word.token_index == other
                )
            )
    return query


def _matching_contacts(session: Session, keyring: Keyring, kind: str, term: str) -> Any:
    """A query for the ids of contacts whose blind index matches ``term``."""
    if kind == "name":
        return contacts_named(
            session, {keyring.blind_index("name-token", token) for token in term.split()}
        )
    column = {
        "phone": RequestContact.phone_index,
        "email": RequestContact.email_index,
        "address": RequestContact.address_index,
    }[kind]
    return select(RequestContact.id).where(column == keyring.blind_index(kind, term))


def _confirms(view: ContactView, kind: str, term: str) -> bool:
    if kind == "phone":
        return view.phone == term
    if kind == "email":
        return view.email == term
    if kind == "name":
        held = set(name_tokens(view.name or ""))
        return all(token in held for token in term.split())
    return canonical_address(view.address or "") == term


def search_requests(
    session: Session,
    keyring: Keyring,
    key: SearchKey,
    *,
    region: str,
    limit: int | None = MAX_SEARCH_RESULTS,
) -> list[ServiceRequest]:
    """A caller's requests by phone, email, name or home address, newest first (at most
    ``limit``; all of them with None, for holds and access requests).

    Candidates come from the blind indexes and are confirmed by decryption. Anonymous
    requests have no contact, so no search can return one (and they are excluded too).
    """
    term = normalised_term(key, region)
    requests = session.scalars(
        select(ServiceRequest)
        .join(RequestContact, RequestContact.request_id == ServiceRequest.id)
        .where(
            RequestContact.id.in_(_matching_contacts(session, keyring, key.kind, term)),
            ServiceRequest.anonymous.is_(False),
        )
        .options(*_SHOWN_WITH)
        .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
        .limit(limit)
    )
    found = []
    for request in requests:
        view = contact_view(keyring, request)
        if view is not None and _confirms(view, key.kind, term):
            found.append(request)
    return found


@dataclass(frozen=True)
class ScreenPop:
    withheld: bool
    requests: list[ServiceRequest]


def screen_pop(
    session: Session, keyring: Keyring, call_sid: str, *, region: str
) -> ScreenPop | None:
    """The earlier requests of the caller on a ringing call (None when no such call)."""
    call = get_call(session, call_sid)
    if call is None:
        return None
    if call.caller_withheld:
        return ScreenPop(True, [])
    number = party_number(keyring, call, "from")
    if number is None:
        return ScreenPop(False, [])
    return ScreenPop(
        False,
        search_requests(session, keyring, SearchKey("phone", number), region=region, limit=20),
    )


def review_description(
    session: Session, request: ServiceRequest, *, text: str | None, now: datetime
) -> None:
    """Publish ``text`` as the request's public description (staff read the description
    and wrote or approved what the public may see), or withdraw it with None."""
    value = _clean_text("text", text, public=False) or None
    request.public_description = value
    if request.anonymous:
        now = now.replace(minute=0, second=0, microsecond=0)
    request.updated_at = max(request.updated_at, now)
    session.flush()


def unreviewed(session: Session, *, limit: int) -> list[ServiceRequest]:
    """Requests whose description nobody has reviewed for the public feed yet, newest
    first (anonymous ones too: they are the ones civic apps file)."""
    return list(
        session.scalars(
            select(ServiceRequest)
            .where(ServiceRequest.description != "", ServiceRequest.public_description.is_(None))
            .options(*_SHOWN_WITH)
            .order_by(ServiceRequest.created_at.desc(), ServiceRequest.id.desc())
            .limit(limit)
        )
    )


def public_filter(keyring: Keyring, request: ServiceRequest, text: str, region: str) -> str:
    """``text`` fit for a public feed: without numbers, emails, SSN-like numbers, the
    contact's own name and home address numbers, names found by their cues, and house
    and flat numbers (the feed's ``address`` says where the problem is)."""
    view = contact_view(keyring, request)
    return scrub(
        text,
        region,
        also=name_tokens(view.name or "") if view else (),
        numbers_of=address_words(view.address if view else None),
        names=True,
        addresses=True,
    )


def public_description(
    keyring: Keyring, request: ServiceRequest, region: str, policy: PublicText
) -> str:
    """The description the public feed carries under ``policy`` ("" for none)."""
    if policy.mode == "none":
        return ""
    text = request.description if policy.mode == "filtered" else request.public_description
    return public_filter(keyring, request, text, region) if text else ""


def public_status_notes(
    keyring: Keyring, request: ServiceRequest, region: str, policy: PublicText
) -> str | None:
    """The latest note staff published, filtered (None under ``none`` or for none)."""
    if policy.mode == "none" or not request.status_notes:
        return None
    return public_filter(keyring, request, request.status_notes, region)


def public_address(request: ServiceRequest) -> str | None:
    """Where the problem is. For an anonymous request only the street, without house
    or flat numbers (as the public-records export gives it): the place may be the
    caller's home."""
    if not request.anonymous:
        return request.address
    return without_street_numbers(request.address)


def public_point(request: ServiceRequest) -> tuple[float | None, float | None]:
    """The coordinates; for an anonymous request to three decimals (about 100 m)."""
    if not request.anonymous or request.lat is None or request.long is None:
        return request.lat, request.long
    return round(request.lat, 3), round(request.long, 3)
