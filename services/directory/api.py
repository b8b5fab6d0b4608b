"""Staff API for the IVR menu's extensions: routes that parse, call the action, and
return its answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.directory import actions
from services.directory.schemas import (
    ExtensionChange,
    ExtensionOut,
    LineChange,
    LineOut,
    NewExtension,
)
from services.platform.auth import ConfigAdmin
from services.platform.context import ContextDep

router = APIRouter(tags=["directory"])


@router.get("/api/extensions", response_model=list[ExtensionOut])
def list_extensions(staff: ConfigAdmin, context: ContextDep) -> list[ExtensionOut]:
    """The IVR menu's extensions and whether each records its calls."""
    return actions.list_extensions(context)


@router.patch("/api/extensions/{digits}", response_model=ExtensionOut)
def change_extension(
    digits: Annotated[str, Path(pattern=r"^[0-9]{1,8}$")],
    body: ExtensionChange,
    staff: ConfigAdmin,
    context: ContextDep,
) -> ExtensionOut:
    """Turn recording on or off for an extension, rename it, or point it elsewhere."""
    return actions.change_extension(context, staff.actor, digits, body)


@router.post("/api/extensions", status_code=201, response_model=ExtensionOut)
def add_extension(body: NewExtension, staff: ConfigAdmin, context: ContextDep) -> ExtensionOut:
    """Add a key to the menu (read last)."""
    return actions.add_extension(context, staff.actor, body)


@router.delete("/api/extensions/{digits}", status_code=204)
def remove_extension(
    digits: Annotated[str, Path(pattern=r"^[0-9]{1,8}$")], staff: ConfigAdmin, context: ContextDep
) -> Response:
    """Take a key out of the menu for good (not the operator's; not while staff take its
    calls)."""
    actions.remove_extension(context, staff.actor, digits)
    return Response(status_code=204)


@router.get("/api/ivr/line", response_model=LineOut)
def read_line(staff: ConfigAdmin, context: ContextDep) -> LineOut:
    """The line's business hours and the welcome callers hear first."""
    return actions.read_line(context)


@router.patch("/api/ivr/line", response_model=LineOut)
def change_line(body: LineChange, staff: ConfigAdmin, context: ContextDep) -> LineOut:
    """Set the business hours or the welcome; empty goes back to the default."""
    return actions.change_line(context, staff.actor, body)
