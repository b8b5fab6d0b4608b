"""The IVR menu's extensions, one function per use case. Reading the menu is reading
configuration (not audited); every change is audited, and so is a change to an
extension that is not there."""

from __future__ import annotations

from services.directory import service as directory
from services.directory.schemas import ExtensionChange, ExtensionOut
from services.platform.actions import unit_of_work
from services.platform.audit import Actor
from services.platform.context import AppContext
from services.platform.errors import existing


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
