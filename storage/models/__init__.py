"""Every model, imported here so that ``Base.metadata`` knows all tables."""

from storage.models.audit import AuditChainHead, AuditEntry
from storage.models.base import Base
from storage.models.calls import Call, CallEvent, Extension
from storage.models.keys import EncryptionKey
from storage.models.staff import ApiToken, StaffUser

__all__ = [
    "ApiToken",
    "AuditChainHead",
    "AuditEntry",
    "Base",
    "Call",
    "CallEvent",
    "EncryptionKey",
    "Extension",
    "StaffUser",
]
