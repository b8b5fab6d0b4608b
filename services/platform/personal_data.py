"""The personal-data registry: each feature declares, in its own ``personal_data.py``,
what personal data its tables hold and how the city's privacy machinery treats it.

- ``sealed``: columns of values sealed with the keyring, and how each value's place
  (its associated data) is named; key rotation re-seals them all.
- ``indexes``: blind-index columns, by the kind of value they index.
- ``free_text``: text columns, each marked personal (what someone typed or said, which
  may be about a person) or not (the city's own words).
- ``wrapped_keys``: per-row data keys wrapped by the master key; re-wrapped with it.
- ``record_classes`` and ``purge``: the retention schedules the feature's records follow,
  and the steps that destroy what a schedule no longer keeps (skipping what is held).
- ``find``, ``links`` and ``export``: how a person's rows are found by their keys (phone,
  email, name, home address), what else those rows reach (a request's calls, a call's
  recordings), and what an access request's export shows of them. Legal holds use the
  same ``find`` and ``links``, so a hold keeps exactly what an export would show.

Key rotation, the retention purge, legal holds and access requests iterate the registry;
central code never lists another feature's tables. A test fails when a model has a
sealed column, a blind index, a wrapped key or a free-text column no entry names.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session, sessionmaker

from storage.blobs import BlobStore
from storage.crypto import FieldContext, Keyring

# The kinds of rows a person's keys or a hold can reach, shared by the features that
# find them and the features that keep or export what they link to.
SERVICE_REQUESTS = "service_requests"  # ServiceRequest ids
CALLS = "calls"  # CallSids
RECORDINGS = "recordings"  # RecordingSids
APPOINTMENTS = "appointments"  # Appointment ids
PHONES = "phones"  # blind indexes of phone numbers
EMAILS = "emails"  # blind indexes of email addresses


@dataclass(frozen=True)
class Sealed:
    """A column of sealed values. Each value is bound to ``table``, ``field`` and the
    row's key (``row_key``, a column or expression; with ``join`` when it lives in
    another table), so a value moved elsewhere does not open."""

    column: Any
    table: str
    field: str
    row_key: Any
    join: tuple[Any, Any] | None = None
    # Someone typed or said it (a name, an address, a message), so it is screened for
    # SSN-like numbers when sealed; numbers and keys the system derives are not.
    typed: bool = False

    @property
    def name(self) -> str:
        return f"{self.table}.{self.field}"

    @property
    def model(self) -> Any:
        return self.column.class_

    def place(self, row_key: str) -> FieldContext:
        return FieldContext(self.table, self.field, row_key)

    def rows(self, *, after: int, limit: int) -> Select[Any]:
        """(primary key, row key, sealed value) of rows after ``after``, in key order."""
        primary = self.model.id
        query = select(primary, self.row_key.label("row_key"), self.column)
        if self.join is not None:
            query = query.join(*self.join)
        return query.where(primary > after).order_by(primary).limit(limit)


@dataclass(frozen=True)
class Indexed:
    """A blind-index column: keyed hashes of ``kind`` values (phone, email, ...)."""

    column: Any
    kind: str


@dataclass(frozen=True)
class FreeText:
    """A text column in the clear. ``personal``: it holds what someone typed or said,
    which may be about a person (shown in exports). ``typed``: a person wrote it (staff
    or the public), so the storage guard refuses it with an SSN-like number in it
    (``services/platform/text_guard.py``); False only for what the system itself writes
    (hashes, keys, URLs, ids, a gateway's error text)."""

    column: Any
    personal: bool
    typed: bool = True


@dataclass(frozen=True)
class WrappedKey:
    """A column of per-row data keys, each wrapped by the master key for ``purpose``."""

    column: Any
    purpose: str


@dataclass(frozen=True)
class RecordClass:
    """A class of records with its own retention schedule (the defaults; administrators
    change them within ``longest``, the policy's ceiling, if it has one)."""

    name: str
    label: str
    counted_from: str
    amount: int
    unit: str
    longest: tuple[int, str] | None = None


class Found:
    """The rows a person's keys or the active legal holds reach, by kind."""

    def __init__(self) -> None:
        self._rows: dict[str, set[Any]] = defaultdict(set)

    def __getitem__(self, kind: str) -> set[Any]:
        return self._rows[kind]

    def sizes(self) -> dict[str, int]:
        return {kind: len(rows) for kind, rows in self._rows.items()}

    def add(self, kind: str, values: Iterable[Any]) -> bool:
        """Add rows; True when any was new."""
        rows = self._rows[kind]
        before = len(rows)
        rows.update(value for value in values if value is not None)
        return len(rows) != before

    def link(self, session: Session, source: str, through: Any, target: str, column: Any) -> None:
        """Add to ``target`` the ``column`` of every row whose ``through`` holds one of the
        ``source`` rows found: a request's calls, a call's recordings. No query when no
        ``source`` row was found."""
        if self[source]:
            self.add(target, session.scalars(select(column).where(through.in_(self[source]))))

    def rows(
        self, session: Session, kind: str, key: Any, *order_by: Any, where: Iterable[Any] = ()
    ) -> Sequence[Any]:
        """The rows (of ``key``'s model) whose ``key`` is among the ``kind`` found, narrowed
        by ``where``, in ``order_by`` order: what an export shows of them. None, and no
        query, when nothing of that kind was found."""
        if not self[kind]:
            return []
        query = select(key.class_).where(key.in_(self[kind]), *where).order_by(*order_by)
        return session.scalars(query).all()


@dataclass(frozen=True)
class PersonKey:
    """One way a person is found: ``kind`` (phone, email, name or address) and the term
    in the form its blind index holds (E.164, case-folded email, name tokens, ...)."""

    kind: str
    term: str


class Sweep(Protocol):
    """What a retention step may use while the purge runs."""

    dry_run: bool
    as_of: datetime
    now: datetime  # the real instant of the run, whatever ``as_of`` says
    db: sessionmaker[Session]
    keyring: Keyring
    blobs: BlobStore
    held: Found
    batch_size: int

    def cutoff(self, record_class: str) -> datetime:
        """Records of ``record_class`` whose clock is before this are due."""
        ...

    def walk(
        self,
        name: str,
        query: Any,
        id_column: Any,
        destroy: Callable[[Session, list[Any]], int] | None,
        *,
        keep: Callable[[Sequence[Any]], bool] | None = None,
        counted: bool = True,
    ) -> None:
        """Destroy (or, dry, count) the rows ``query`` selects (its first column, the
        ids ``destroy`` takes), batch by batch in ``id_column`` order; rows for which
        ``keep`` says so are skipped and counted as held. ``counted=False``: a clean-up
        of rows already counted under another name."""
        ...

    def blob_deleted(self) -> None:
        """Count one blob deleted."""
        ...

    def count(self, name: str, rows: int) -> None:
        """Count rows destroyed (or, dry, due) outside ``walk``."""
        ...


@dataclass(frozen=True)
class PurgeStep:
    """One step of the purge for ``record_class``; steps run by ``order``, so rows that
    point at others go before what they point at."""

    record_class: str
    order: int
    run: Callable[[Sweep], None]


FindRows = Callable[[Session, Keyring, Sequence[PersonKey], Found], None]
LinkRows = Callable[[Session, Found], None]
ExportRows = Callable[[Session, Keyring, Found, ZoneInfo], Any]


@dataclass(frozen=True)
class ExportSection:
    """A part of an access request's export: ``rows`` gives a list of records (or, for
    a fact such as an opt-out, a value); ``columns`` label what a reader sees of each."""

    name: str
    title: str
    order: int
    rows: ExportRows
    columns: tuple[tuple[str, str], ...] = ()
    note: str = ""


@dataclass(frozen=True)
class PersonalData:
    """One feature's entry in the registry."""

    feature: str
    sealed: tuple[Sealed, ...] = ()
    indexes: tuple[Indexed, ...] = ()
    free_text: tuple[FreeText, ...] = ()
    wrapped_keys: tuple[WrappedKey, ...] = ()
    record_classes: tuple[RecordClass, ...] = ()
    purge: tuple[PurgeStep, ...] = ()
    find: FindRows | None = None
    links: LinkRows | None = None
    export: tuple[ExportSection, ...] = ()


@dataclass(frozen=True)
class Registry:
    """Every feature's entry; built once by the composition root."""

    entries: tuple[PersonalData, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        names = [record.name for entry in self.entries for record in entry.record_classes]
        if len(names) != len(set(names)):
            raise ValueError("a record class is declared twice")

    def sealed(self) -> Iterator[Sealed]:
        for entry in self.entries:
            yield from entry.sealed

    def wrapped_keys(self) -> Iterator[WrappedKey]:
        for entry in self.entries:
            yield from entry.wrapped_keys

    def typed_text(self) -> Iterator[FreeText]:
        """Every clear-text column a person wrote."""
        for entry in self.entries:
            yield from (text for text in entry.free_text if text.typed)

    def typed_places(self) -> frozenset[tuple[str, str]]:
        """The (table, field) of every sealed value a person wrote."""
        return frozenset((sealed.table, sealed.field) for sealed in self.sealed() if sealed.typed)

    def record_classes(self) -> dict[str, RecordClass]:
        """Every record class, in the order the purge first reaches it."""
        first_step: dict[str, int] = {}
        for step in self.purge_steps():
            first_step.setdefault(step.record_class, step.order)
        classes = [record for entry in self.entries for record in entry.record_classes]
        classes.sort(key=lambda record: first_step.get(record.name, 10**6))
        return {record.name: record for record in classes}

    def purge_steps(self) -> list[PurgeStep]:
        return sorted(
            (step for entry in self.entries for step in entry.purge), key=lambda s: s.order
        )

    def export_sections(self) -> list[ExportSection]:
        return sorted(
            (section for entry in self.entries for section in entry.export),
            key=lambda s: s.order,
        )

    def reach(
        self,
        session: Session,
        keyring: Keyring,
        *,
        people: Sequence[Sequence[PersonKey]] = (),
        found: Found | None = None,
    ) -> Found:
        """Everything the people's keys find, and everything those rows (and any rows
        already in ``found``) link to, followed until nothing new is reached."""
        reached = found if found is not None else Found()
        for keys in people:
            for entry in self.entries:
                if entry.find is not None:
                    entry.find(session, keyring, keys, reached)
        for _ in range(16):  # links form short chains (request, call, leg, recording)
            before = reached.sizes()
            for entry in self.entries:
                if entry.links is not None:
                    entry.links(session, reached)
            if reached.sizes() == before:
                break
        return reached


# -- small tools the features' entries share -------------------------------------------


def deleted(result: Any) -> int:
    """Rows a DELETE or UPDATE touched."""
    return int(getattr(result, "rowcount", 0) or 0)


def delete_rows(model: Any, column: Any) -> Callable[[Session, list[Any]], int]:
    """A purge step's ``destroy``: delete the rows of ``model`` whose ``column`` is in
    the batch."""

    def destroy(session: Session, ids: list[Any]) -> int:
        return deleted(session.execute(delete(model).where(column.in_(ids))))

    return destroy


def local_time(instant: datetime | None, tz: ZoneInfo) -> str | None:
    """An instant as an export shows it: ISO 8601 in the city's time."""
    return None if instant is None else instant.astimezone(tz).isoformat()


def phone_terms(keys: Sequence[PersonKey]) -> list[str]:
    """The E.164 numbers among a person's keys."""
    return [key.term for key in keys if key.kind == "phone"]


def phone_indexes(keyring: Keyring, keys: Sequence[PersonKey]) -> list[bytes]:
    """The blind indexes of the phone numbers among a person's keys."""
    return [keyring.blind_index("phone", number) for number in phone_terms(keys)]


def email_indexes(keyring: Keyring, keys: Sequence[PersonKey]) -> list[bytes]:
    """The blind indexes of the (case-folded) email addresses among a person's keys."""
    return [keyring.blind_index("email", key.term) for key in keys if key.kind == "email"]


_KEY_INDEXES = {"phone": phone_indexes, "email": email_indexes}


def find_indexes(kind: str, key_kind: str) -> FindRows:
    """A ``find`` that reaches the person's ``key_kind`` keys themselves, as ``kind`` rows
    (their blind indexes): what an outbox or an opt-out list is found by."""

    def find(_session: Session, keyring: Keyring, keys: Sequence[PersonKey], found: Found) -> None:
        found.add(kind, _KEY_INDEXES[key_kind](keyring, keys))

    return find


def find_by_index(kind: str, id_column: Any, index_column: Any, *key_kinds: str) -> FindRows:
    """A ``find`` that adds to ``kind`` the ``id_column`` of the rows whose
    ``index_column`` holds the blind index of one of the person's keys of ``key_kinds``
    (phone, email); no query when they have none."""

    def find(session: Session, keyring: Keyring, keys: Sequence[PersonKey], found: Found) -> None:
        indexes = [
            index for key_kind in key_kinds for index in _KEY_INDEXES[key_kind](keyring, keys)
        ]
        if indexes:
            found.add(kind, session.scalars(select(id_column).where(index_column.in_(indexes))))

    return find


def sealed_fields(
    model: Any,
    row_key: Any,
    *fields: str,
    typed: Iterable[str] = (),
    join: tuple[Any, Any] | None = None,
) -> tuple[Sealed, ...]:
    """The ``<field>_sealed`` columns of ``model``, each value bound to the model's table,
    its field and ``row_key`` (with ``join`` when that lives in another table); those in
    ``typed`` are what a person typed or said."""
    typed_names = frozenset(typed)
    return tuple(
        Sealed(
            getattr(model, f"{name}_sealed"),
            model.__tablename__,
            name,
            row_key,
            join=join,
            typed=name in typed_names,
        )
        for name in fields
    )


def purge_older(
    sweep: Sweep,
    name: str,
    model: Any,
    clock: Any,
    *,
    record_class: str | None = None,
    where: Iterable[Any] = (),
    held: Sequence[tuple[Any, str]] = (),
    counted: bool = True,
) -> None:
    """Destroy (or, dry, count) as ``name`` the rows of ``model`` whose ``clock`` is
    before the cutoff of ``record_class`` (``name`` by default) and that meet ``where``.
    ``held``: (column, kind) pairs; a row whose column holds a held row of that kind is
    kept."""
    cutoff = sweep.cutoff(record_class or name)

    def keep(row: Sequence[Any]) -> bool:
        return any(row[i] in sweep.held[kind] for i, (_, kind) in enumerate(held, start=1))

    sweep.walk(
        name,
        select(model.id, *(column for column, _ in held)).where(clock < cutoff, *where),
        model.id,
        delete_rows(model, model.id),
        keep=keep if held else None,
        counted=counted,
    )
