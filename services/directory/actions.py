"""The IVR menu's extensions, one function per use case. Reading the menu is reading
configuration (not audited); every change is audited, and so is a change to an
extension that is not there."""

from __future__ import annotations

from sqlalchemy import func, select

from services.directory import ivr
from services.directory import service as directory
from services.directory.hours import BusinessHours
from services.directory.models import Extension, IvrLine
from services.directory.schemas import (
    ExtensionChange,
    ExtensionOut,
    LineChange,
    LineOut,
    NewExtension,
)
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import InvalidField, Problem, existing
from services.staff.models import StaffUser


def list_extensions(context: AppContext) -> list[ExtensionOut]:
    """Every extension of the IVR menu, enabled or not, in menu order."""
    with context.db() as session:
        return [ExtensionOut.model_validate(row) for row in directory.extensions(session)]


def change_extension(
    context: AppContext, actor: Actor, digits: str, change: ExtensionChange
) -> ExtensionOut:
    """Turn recording on or off for an extension, rename it, point it elsewhere, or take
    it out of the menu."""
    with unit_of_work(
        context, actor, "config.extension_change", object_type="extension", object_id=digits
    ) as work:
        row = existing(directory.get_extension(work.session, digits), "extension")
        changes = change.model_dump(exclude_none=True)
        for name, value in changes.items():
            setattr(row, name, value)
        work.note(fields=sorted(changes))
        return ExtensionOut.model_validate(row)


def add_extension(context: AppContext, actor: Actor, new: NewExtension) -> ExtensionOut:
    """Add a key to the menu, read last. Refused (422) for 9 (the Spanish menu), a key
    the menu has, and a key that begins another or that another begins (callers could
    not reach both)."""
    with unit_of_work(
        context, actor, "config.extension_add", object_type="extension", object_id=new.digits
    ) as work:
        if new.digits == directory.SPANISH_DIGITS:
            raise InvalidField("digits", "9 switches the menu to Spanish")
        for other in directory.extensions(work.session):
            if other.digits == new.digits:
                raise InvalidField("digits", "the menu has this key already")
            if other.digits.startswith(new.digits) or new.digits.startswith(other.digits):
                raise InvalidField("digits", f"callers could not tell it from key {other.digits}")
        last = work.session.scalar(select(func.max(Extension.position)))
        row = Extension(
            digits=new.digits,
            name_en=new.name_en.strip(),
            name_es=new.name_es.strip(),
            destination=new.destination.strip(),
            record_calls=new.record_calls,
            enabled=True,
            position=(last or 0) + 1,
        )
        work.session.add(row)
        work.session.flush()
        work.note(record_calls=new.record_calls)
        return ExtensionOut.model_validate(row)


def remove_extension(context: AppContext, actor: Actor, digits: str) -> None:
    """Take a key out of the menu for good (calls already logged keep it). Refused (409)
    for the operator's key, where callers go after three misses, and while staff members
    take that department's calls (move them first)."""
    with unit_of_work(
        context, actor, "config.extension_remove", object_type="extension", object_id=digits
    ) as work:
        row = existing(directory.get_extension(work.session, digits), "extension")
        if digits == directory.OPERATOR_DIGITS:
            raise Problem(
                409, "Conflict", "Callers reach the operator's key after three misses; keep it."
            )
        taking = work.session.scalar(
            select(func.count()).select_from(StaffUser).where(StaffUser.department == digits)
        )
        if taking:
            raise Problem(
                409,
                "Conflict",
                f"{taking} staff account(s) take this department's calls; "
                "move them to another department first.",
            )
        work.session.delete(row)
        work.note(name_en=row.name_en)


def _line_out(context: AppContext, row: IvrLine | None, hours: BusinessHours) -> LineOut:
    default = context.part(ivr.IvrPolicy)
    return LineOut(
        hours=row.hours if row is not None and row.hours else default.hours_text,
        hours_set=row is not None and bool(row.hours),
        default_hours=default.hours_text,
        welcome_en=row.welcome_en if row is not None else None,
        welcome_es=row.welcome_es if row is not None else None,
        open_now=hours.is_open(context.clock.now(), default.tz),
    )


def read_line(context: AppContext) -> LineOut:
    """How the line answers now: its hours and welcome (configuration; not audited)."""
    with context.db() as session:
        policy = context.part(ivr.IvrPolicy)
        return _line_out(context, directory.line(session), ivr.hours(session, policy))


def change_line(context: AppContext, actor: Actor, change: LineChange) -> LineOut:
    """Set the line's business hours or its welcome in either language; an empty value
    goes back to the city's setting or the standard welcome. Hours that do not read
    (422) name the clause that is wrong."""
    with unit_of_work(context, actor, "config.line_change", object_type="ivr_line") as work:
        row = directory.line(work.session)
        if row is None:
            row = IvrLine(id=1)
            work.session.add(row)
        changes = change.model_dump(exclude_unset=True)
        if "hours" in changes:
            text = (changes["hours"] or "").strip()
            if text:
                try:
                    BusinessHours.parse(text)
                except ValueError as exc:
                    raise InvalidField("hours", str(exc)) from exc
            row.hours = text or None
        for language in ("en", "es"):
            name = f"welcome_{language}"
            if name in changes:
                setattr(row, name, (changes[name] or "").strip() or None)
        row.changed_at = work.now
        work.session.flush()
        work.note(fields=sorted(changes))
        return _line_out(context, row, ivr.hours(work.session, context.part(ivr.IvrPolicy)))
