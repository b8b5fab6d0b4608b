"""The IVR's rules: when the line is open, what a key press leads to, when a person helps.

``telephony`` turns Twilio's webhooks into these calls and the decisions into TwiML; the
rules themselves (business hours, the language switch, how many tries before the
operator) are the city's, so they live here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from services.calls import service as calls
from services.directory import service as directory
from services.directory.hours import BusinessHours, business_hours
from services.directory.models import CallOffer
from services.directory.service import MenuEntry
from services.staff import service as staff
from services.staff.models import StaffUser
from services.staff.service import PresencePolicy


@dataclass(frozen=True)
class IvrPolicy:
    """How the line answers: its hours, how long a department rings, the longest message."""

    city: str
    hours: BusinessHours
    tz: ZoneInfo
    dial_timeout_seconds: int = 25
    voicemail_max_seconds: int = 120
    # After this many silences or wrong keys, a person helps rather than the menu.
    menu_attempts: int = 3
    # Available agents of the department offered the call, one after another, before
    # the department's own destination.
    agent_offers: int = 2
    # The hours as the city's setting words them, shown to administrators as the default.
    hours_text: str = ""

    def is_open(self, instant: datetime) -> bool:
        return self.hours.is_open(instant, self.tz)


def hours(session: Session, policy: IvrPolicy) -> BusinessHours:
    """The line's business hours: as administrators set them, else the city's setting."""
    row = directory.line(session)
    return business_hours(row.hours) if row is not None and row.hours else policy.hours


def is_open(session: Session, policy: IvrPolicy, instant: datetime) -> bool:
    """Whether the line is open at ``instant`` by the hours in force."""
    return hours(session, policy).is_open(instant, policy.tz)


@dataclass(frozen=True)
class MenuOutcome:
    """What the caller's key press leads to, decided in the webhook's transaction."""

    language: str
    connect: MenuEntry | None = None
    menu: tuple[MenuEntry, ...] = ()
    greet: bool = False
    attempt: int = 1
    # With ``greet``: the welcome administrators set for the language (None: standard).
    welcome: str | None = None


def choose(
    session: Session,
    policy: IvrPolicy,
    *,
    call_sid: str,
    digits: str,
    language: str,
    attempt: int,
    now: datetime,
) -> MenuOutcome:
    """Apply a key press: switch to Spanish, connect a department (the operator after
    ``menu_attempts`` misses), or read the menu again."""
    if digits == directory.SPANISH_DIGITS and language == "en":
        calls.set_language(session, call_sid=call_sid, language="es", now=now)
        return MenuOutcome(
            "es",
            menu=tuple(directory.menu(session)),
            greet=True,
            welcome=directory.welcome(session, "es"),
        )
    entry = directory.find(session, digits) if digits.isdigit() else None
    if entry is None and attempt >= policy.menu_attempts:
        entry = directory.find(session, directory.OPERATOR_DIGITS)
    if entry is None:
        return MenuOutcome(language, menu=tuple(directory.menu(session)), attempt=attempt + 1)
    calls.choose_extension(
        session, call_sid=call_sid, extension=entry.digits, language=language, now=now
    )
    return MenuOutcome(language, connect=entry)


# -- offering a department's call ------------------------------------------------------

# An offer whose outcome never reached us stops counting as open after this long, so an
# agent is not skipped for ever because one callback was lost.
OPEN_OFFER_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Offer:
    """Where the call rings next: an agent (``agent`` is their username) or the
    department's own destination (``agent`` None)."""

    entry: MenuEntry
    destination: str
    agent: str | None

    @property
    def dial_entry(self) -> MenuEntry:
        """The menu entry with this offer's destination, as the Dial names it."""
        return replace(self.entry, destination=self.destination)


def _longest_idle(
    session: Session,
    presence: PresencePolicy,
    *,
    department: str,
    exclude: set[int],
    now: datetime,
) -> StaffUser | None:
    """The department's available agent idle longest, not already tried on this call and
    not ringing for another (a wrap-up past its limit counts as available)."""
    ringing_elsewhere = select(CallOffer.user_id).where(
        CallOffer.user_id.is_not(None),
        CallOffer.ended_at.is_(None),
        CallOffer.offered_at >= now - OPEN_OFFER_WINDOW,
    )
    candidates = session.scalars(
        select(StaffUser)
        .where(
            StaffUser.department == department,
            StaffUser.destination.is_not(None),
            StaffUser.disabled_at.is_(None),
            StaffUser.presence.in_(("available", "wrap_up")),
            StaffUser.id.not_in(ringing_elsewhere),
        )
        .order_by(StaffUser.presence_since, StaffUser.id)
        # Two calls choosing at once on PostgreSQL never take the same agent.
        .with_for_update(skip_locked=True)
    ).all()
    idle: list[tuple[datetime, int, StaffUser]] = []
    for user in candidates:
        if user.id in exclude:
            continue
        state, since = staff.effective_presence(user, now=now, policy=presence)
        if state == "available":
            idle.append((since or now, user.id, user))
    return min(idle, key=lambda item: (item[0], item[1]))[2] if idle else None


def next_offer(
    session: Session,
    policy: IvrPolicy,
    presence: PresencePolicy,
    *,
    call_sid: str,
    entry: MenuEntry,
    now: datetime,
) -> Offer | None:
    """Where the caller's call rings next: the department's available agents, longest
    idle first (at most ``policy.agent_offers`` of them), then the department's own
    destination, then nowhere (voicemail). The offer is recorded, so the next dial
    status moves on from it."""
    offers = session.scalars(select(CallOffer).where(CallOffer.call_sid == call_sid)).all()
    tried = {offer.user_id for offer in offers if offer.user_id is not None}
    department_tried = any(offer.user_id is None for offer in offers)
    if department_tried:
        return None
    agent = None
    if len(tried) < policy.agent_offers:
        agent = _longest_idle(session, presence, department=entry.digits, exclude=tried, now=now)
    destination = agent.destination if agent is not None and agent.destination else None
    session.add(
        CallOffer(
            call_sid=call_sid,
            extension=entry.digits,
            user_id=None if agent is None else agent.id,
            destination=destination or entry.destination,
            offered_at=now,
        )
    )
    session.flush()
    if agent is None or destination is None:
        return Offer(entry, entry.destination, None)
    return Offer(entry, destination, agent.username)


def close_offers(session: Session, *, call_sid: str, outcome: str, now: datetime) -> None:
    """The dial of ``call_sid`` ended with ``outcome`` (Twilio's DialCallStatus)."""
    session.execute(
        update(CallOffer)
        .where(CallOffer.call_sid == call_sid, CallOffer.ended_at.is_(None))
        .values(ended_at=now, outcome=outcome[:16])
    )


def dial_outcome(
    session: Session,
    policy: IvrPolicy,
    presence: PresencePolicy,
    *,
    call_sid: str,
    extension: str | None,
    dial_status: str,
    now: datetime,
) -> Offer | None:
    """A dial ended: close its offer and, unless it was answered or the caller hung up,
    offer the call to the next place (None: nobody is left, take a voicemail)."""
    close_offers(session, call_sid=call_sid, outcome=dial_status or "unknown", now=now)
    if dial_status in ("completed", "answered", "canceled") or extension is None:
        return None
    entry = directory.find(session, extension)
    if entry is None:
        return None
    return next_offer(session, policy, presence, call_sid=call_sid, entry=entry, now=now)
