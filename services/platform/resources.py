"""How a stored row becomes a resource of the API: the fields a row holds as they are
shown are read from it by name (pydantic's ``from_attributes``), and only the fields
shown otherwise (a public id, a local time, a name for an id) are written out."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

Resource = TypeVar("Resource", bound=BaseModel)


def resource(model: type[Resource], row: object, **shown: Any) -> Resource:
    """``model`` validated from ``row``'s attributes of its fields' names, with ``shown``
    taking the place of (or standing for) the fields the row holds differently. A field
    neither in ``shown`` nor on ``row`` takes its default; without one, pydantic's
    ValidationError names it."""
    values = {
        name: getattr(row, name)
        for name in model.model_fields
        if name not in shown and hasattr(row, name)
    }
    return model.model_validate({**values, **shown})
