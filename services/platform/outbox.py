"""An outbox table: messages to people (texts, emails) queued under an idempotency key,
their personal fields sealed, each sent by one worker at a time.

The features own their tables and their gateways; what every outbox does the same way
lives here, so a fix to claiming or retrying reaches texts and email alike:

- a message is queued once per ``idempotency_key`` (a second queueing does nothing);
- its sealed fields are bound to the table, the field and that key;
- it is claimed with a conditional update (waiting → one more attempt), so a job and the
  sweep cannot both send it; one left "sending" longer than ``stale_after`` had its
  attempt cut off, and may be claimed again;
- a failed attempt puts it back in the queue, or gives up after the last attempt.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Integer, String, and_, or_, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.personal_data import ExportRows, Found, local_time
from storage.base import BIG_ID
from storage.crypto import FieldContext, Keyring
from storage.upsert import insert_ignoring_conflicts


class OutboxColumns:
    """The columns every outbox table has (a mixin for its model): the message, sealed
    and found by the blind index of where it goes, and its way through the outbox.
    ``idempotency_key`` names what it is for, so the same notice is never queued twice."""

    id: Mapped[int] = mapped_column(BIG_ID, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    to_sealed: Mapped[bytes]
    to_index: Mapped[bytes] = mapped_column(index=True)
    body_sealed: Mapped[bytes]
    language: Mapped[str] = mapped_column(String(2))
    state: Mapped[str] = mapped_column(String(16))
    not_before: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    gateway: Mapped[str | None] = mapped_column(String(16))
    failure: Mapped[str | None] = mapped_column(String(120))
    sending_since: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


Message = TypeVar("Message", bound=OutboxColumns)


class _Shown(Protocol):
    @property
    def id(self) -> int: ...


Shown = TypeVar("Shown", bound=_Shown)


class Outbox(Generic[Message]):
    """The rules of one outbox table. ``waiting``: the states a message waits in to be
    sent (the text outbox also holds texts for quiet hours)."""

    def __init__(self, model: type[Message], *, waiting: tuple[str, ...]) -> None:
        self.model = model
        self.waiting = waiting
        # The columns every outbox table has, read through the model's mapping.
        self._table: Any = model

    @property
    def table_name(self) -> str:
        return str(self._table.__tablename__)

    def place(self, field: str, key: str) -> FieldContext:
        """Where a message's sealed ``field`` belongs: this table, the field, its key."""
        return FieldContext(self.table_name, field, key)

    def opened(self, keyring: Keyring, message: Message, field: str) -> str:
        """The message's sealed ``field`` (the ``<field>_sealed`` column), opened."""
        row: Any = message
        return keyring.open(getattr(row, f"{field}_sealed"), self.place(field, row.idempotency_key))

    def queue(
        self,
        session: Session,
        keyring: Keyring,
        *,
        key: str,
        sealed: Mapping[str, str],
        values: Mapping[str, Any],
        now: datetime,
    ) -> int | None:
        """Put a message in the outbox, each of ``sealed`` (field: value) sealed into its
        ``<field>_sealed`` column; its id, or None when ``key`` was queued before."""
        inserted = insert_ignoring_conflicts(
            session,
            self.model,
            {
                "idempotency_key": key,
                **{
                    f"{field}_sealed": keyring.seal(value, self.place(field, key))
                    for field, value in sealed.items()
                },
                **values,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            },
            conflict_columns=["idempotency_key"],
        )
        if not inserted:
            return None
        queued: int | None = session.scalar(
            select(self._table.id).where(self._table.idempotency_key == key)
        )
        return queued

    def page(self, session: Session, *, before_id: int | None, limit: int) -> list[Message]:
        """Messages sent or waiting, newest first; page on with ``before_id``."""
        query = select(self.model).order_by(self._table.id.desc()).limit(limit)
        if before_id is not None:
            query = query.where(self._table.id < before_id)
        return list(session.scalars(query))

    def _sendable(self, now: datetime, stale_after: timedelta) -> ColumnElement[bool]:
        """Due, and waiting or left "sending" by an attempt that was cut off."""
        table = self._table
        return and_(
            table.not_before <= now,
            or_(
                table.state.in_(self.waiting),
                (table.state == "sending") & (table.sending_since < now - stale_after),
            ),
        )

    def due(
        self, session: Session, *, now: datetime, limit: int, stale_after: timedelta
    ) -> list[int]:
        """The messages that should be sent by now (waiting ones, lost jobs), oldest first."""
        return list(
            session.scalars(
                select(self._table.id)
                .where(self._sendable(now, stale_after))
                .order_by(self._table.not_before)
                .limit(limit)
            )
        )

    def claim(
        self, session: Session, message_id: int, *, now: datetime, stale_after: timedelta
    ) -> Message | None:
        """Take the message for one more attempt; None when it is not sendable now (sent,
        ended, not due, or being sent by an attempt that is not stale)."""
        table = self._table
        claimed = session.execute(
            update(table)
            .where(table.id == message_id, self._sendable(now, stale_after))
            .values(attempts=table.attempts + 1, updated_at=now)
        )
        if not getattr(claimed, "rowcount", 0):
            return None
        return session.get(self.model, message_id)

    def state(self, session: Session, message_id: int) -> str:
        """The message's state, or "gone" when there is no such message."""
        message: Any = session.get(self.model, message_id)
        return "gone" if message is None else str(message.state)

    def finish(self, sessions: sessionmaker[Session], message_id: int, **values: object) -> None:
        """Write the outcome of an attempt, in its own transaction."""
        with sessions.begin() as session:
            session.execute(
                update(self._table).where(self._table.id == message_id).values(**values)
            )

    def failed_attempt(
        self,
        sessions: sessionmaker[Session],
        message_id: int,
        *,
        attempt: int,
        max_attempts: int,
        ambiguous: bool,
        now: datetime,
    ) -> bool:
        """After an attempt that failed for now: True when that was the last attempt (the
        message failed). Otherwise it goes back to the queue, unless the gateway may
        have taken it (``ambiguous``): then it stays "sending" until the attempt is stale."""
        if attempt >= max_attempts:
            self.finish(
                sessions,
                message_id,
                state="failed",
                failure=f"gave up after {attempt} attempts",
                updated_at=now,
            )
            return True
        if not ambiguous:
            self.finish(sessions, message_id, state="queued", sending_since=None, updated_at=now)
        return False

    def sent_to(self, kind: str, *fields: str) -> ExportRows:
        """An access request's export of the messages to the person's ``kind`` rows (blind
        indexes of their numbers or addresses), oldest first: what each was, when it was
        queued, its state and its ``fields``, opened."""
        table = self._table

        def rows(
            session: Session, keyring: Keyring, found: Found, tz: ZoneInfo
        ) -> list[dict[str, Any]]:
            messages = found.rows(session, kind, table.to_index, table.created_at, table.id)
            return [
                {
                    "kind": message.kind,
                    "queued_at": local_time(message.created_at, tz),
                    "state": message.state,
                    **{field: self.opened(keyring, message, field) for field in fields},
                }
                for message in messages
            ]

        return rows


def read_page(
    context: AppContext,
    actor: Actor,
    outbox: Outbox[Message],
    show: Callable[[Message, Keyring, ZoneInfo], Shown],
    *,
    action: str,
    object_type: str,
    before_id: int | None,
    limit: int,
) -> tuple[list[Shown], int | None]:
    """One page of an outbox for staff, newest first, read in a unit of work audited as
    ``action`` with the number of results: the messages as ``show`` shows them, and the
    ``before_id`` of the next page (None on the last)."""
    with unit_of_work(context, actor, action, object_type=object_type) as work:
        found = outbox.page(work.session, before_id=before_id, limit=limit)
        work.note(results=len(found))
        items = [show(message, context.keyring, context.city_tz) for message in found]
    return items, items[-1].id if len(items) == limit else None
