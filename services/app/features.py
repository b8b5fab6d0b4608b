"""The features that make up Switchboard, found by their folders under ``services/``.

The composition root imports every feature's models (so the metadata knows all tables),
personal-data entry and jobs from here; nothing else lists them.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import services
from services.platform import records
from services.platform.personal_data import PersonalData, Registry

# Folders under services/ that are not features: the composition root, the shared
# infrastructure, and the console (pages over the features' actions).
NOT_FEATURES = frozenset({"app", "platform", "console"})


def feature_names() -> list[str]:
    """Every feature package under ``services/``, by name."""
    return sorted(
        info.name
        for info in pkgutil.iter_modules(services.__path__)
        if info.ispkg and info.name not in NOT_FEATURES
    )


def feature_modules(name: str) -> list[ModuleType]:
    """The module ``name`` (e.g. ``models``) of every feature that has one."""
    found = []
    for feature in feature_names():
        try:
            found.append(importlib.import_module(f"services.{feature}.{name}"))
        except ModuleNotFoundError as missing:
            if missing.name != f"services.{feature}.{name}":
                raise
    return found


def load_models() -> None:
    """Import every table's model, the platform's and each feature's."""
    importlib.import_module("services.platform.models")
    importlib.import_module("storage.keystore")
    feature_modules("models")


def personal_data_registry() -> Registry:
    """The personal-data registry: the platform's own entry and every feature's."""
    entries = [records.PERSONAL_DATA]
    for module in feature_modules("personal_data"):
        entry = getattr(module, "PERSONAL_DATA", None)
        if not isinstance(entry, PersonalData):
            raise TypeError(f"{module.__name__} declares no PERSONAL_DATA entry")
        entries.append(entry)
    return Registry(tuple(entries))
