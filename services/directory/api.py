"""Staff API for the IVR menu's extensions: routes that parse, call the action, and
return its answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from services.directory import actions
from services.directory.schemas import ExtensionChange, ExtensionOut
from services.platform.auth import Permission, Staff, require
from services.platform.context import ContextDep

router = APIRouter(tags=["directory"])
ConfigAdmin = Annotated[Staff, Depends(require(Permission.CONFIG_MANAGE))]


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
