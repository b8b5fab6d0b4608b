"""The one layer every typed text passes on its way to the database: no SSN-like number
is stored, whichever form, route, job or webhook the text came through.

The personal-data registry names every clear-text column a person writes
(``FreeText(typed=True)``) and every sealed value a person wrote (``Sealed(typed=True)``);
a test fails for any text column it does not classify. ``install`` hooks both:

- the session factory's ``before_flush``: every new or changed value of a typed column
  (strings, and the strings inside JSON) is checked before any SQL is sent;
- the keyring's ``screen``: every typed value is checked before it is sealed, since a
  sealed value cannot be checked afterwards.

Either raises ``InvalidField`` (422) naming the field, never the value; inside a unit of
work that rolls the work back and audits the refusal. Features still refuse (staff
input) or redact (text from the public) at their own boundary first, with the field
named as the client sent it; this layer is what makes a missed field fail safe.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker

from services.platform import ssn
from services.platform.personal_data import Registry
from storage.crypto import FieldContext, Keyring

# How a sealed place is named to the client, where the API calls it something else.
_SEALED_FIELDS = {"request_contacts": "contact.{}"}


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(key)
            yield from _strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _strings(item)


def check_value(field: str, value: Any) -> None:
    """InvalidField when ``value`` (text, or JSON holding text) has an SSN-like number."""
    for text in _strings(value):
        ssn.refuse(field, text)


def install(sessions: sessionmaker[Session], keyring: Keyring, registry: Registry) -> None:
    """Guard every typed column of ``registry`` in sessions from ``sessions``, and every
    typed sealed value ``keyring`` seals."""
    columns: dict[type, list[str]] = {}
    for text in registry.typed_text():
        columns.setdefault(text.column.class_, []).append(text.column.key)
    places = registry.typed_places()

    def before_flush(session: Session, flush_context: Any, instances: Any) -> None:
        for row in (*session.new, *session.dirty):
            keys = columns.get(type(row))
            if not keys:
                continue
            state = inspect(row)
            for key in keys:
                if row in session.new or state.attrs[key].history.has_changes():
                    check_value(key, getattr(row, key))

    def screen(plaintext: str, place: FieldContext) -> None:
        if (place.table, place.column) in places:
            name = _SEALED_FIELDS.get(place.table, "{}").format(place.column)
            ssn.refuse(name, plaintext)

    event.listen(sessions, "before_flush", before_flush)
    keyring.screen = screen
