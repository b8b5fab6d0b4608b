"""The extension directory behind the IVR menu."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.directory.models import Extension, IvrLine

OPERATOR_DIGITS = "0"
SPANISH_DIGITS = "9"


@dataclass(frozen=True)
class MenuEntry:
    digits: str
    name_en: str
    name_es: str
    destination: str
    record_calls: bool = True

    def name(self, language: str) -> str:
        return self.name_es if language == "es" else self.name_en


# Departments a mid-sized city's 311 line routes to. Destinations are Twilio Client
# identities of each department's call-taker group; administrators change them.
DEFAULT_MENU = (
    MenuEntry(
        "1",
        "trash, recycling and bulk pickup",
        "basura, reciclaje y recogida de objetos grandes",
        "client:sanitation",
    ),
    MenuEntry(
        "2",
        "streets, potholes and street lights",
        "calles, baches y alumbrado público",
        "client:streets",
    ),
    MenuEntry("3", "water and sewer", "agua y alcantarillado", "client:water"),
    MenuEntry("4", "parking and traffic", "estacionamiento y tránsito", "client:traffic"),
    MenuEntry(
        "5", "housing and building code", "vivienda y código de construcción", "client:housing"
    ),
    MenuEntry(OPERATOR_DIGITS, "anything else", "cualquier otro asunto", "client:operator"),
)


def _load_menu_file(path: Path) -> list[MenuEntry]:
    entries = json.loads(path.read_text(encoding="utf-8"))
    menu = [MenuEntry(**entry) for entry in entries]
    for entry in menu:
        if not entry.digits.isdigit() or entry.digits == SPANISH_DIGITS:
            raise ValueError(f"IVR menu digits {entry.digits!r} must be digits other than 9")
    return menu


def ensure_menu(session: Session, menu_file: Path | None = None) -> None:
    """Seed the directory on first start, from ``menu_file`` or the defaults."""
    if session.scalar(select(func.count()).select_from(Extension)):
        return
    menu = _load_menu_file(menu_file) if menu_file else list(DEFAULT_MENU)
    for position, entry in enumerate(menu):
        session.add(
            Extension(
                digits=entry.digits,
                name_en=entry.name_en,
                name_es=entry.name_es,
                destination=entry.destination,
                record_calls=entry.record_calls,
                enabled=True,
                position=position,
            )
        )
    session.flush()


def _entry(row: Extension) -> MenuEntry:
    return MenuEntry(row.digits, row.name_en, row.name_es, row.destination, row.record_calls)


def menu(session: Session) -> list[MenuEntry]:
    """The enabled extensions in the order the IVR reads them."""
    rows = session.scalars(
        select(Extension).where(Extension.enabled.is_(True)).order_by(Extension.position)
    )
    return [_entry(row) for row in rows]


def extensions(session: Session) -> list[Extension]:
    """Every extension, enabled or not, in the order the IVR reads them."""
    return list(session.scalars(select(Extension).order_by(Extension.position)))


def get_extension(session: Session, digits: str) -> Extension | None:
    """The extension reached with ``digits``, enabled or not."""
    return session.scalar(select(Extension).where(Extension.digits == digits))


def find(session: Session, digits: str) -> MenuEntry | None:
    row = session.scalar(
        select(Extension).where(Extension.digits == digits, Extension.enabled.is_(True))
    )
    return None if row is None else _entry(row)


def line(session: Session) -> IvrLine | None:
    """What administrators changed of how the line answers (None: nothing yet)."""
    return session.get(IvrLine, 1)


def welcome(session: Session, language: str) -> str | None:
    """The welcome administrators set for ``language`` (None: the standard one)."""
    row = line(session)
    if row is None:
        return None
    return row.welcome_es if language == "es" else row.welcome_en
