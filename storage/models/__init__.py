"""Every model, imported here so that ``Base.metadata`` knows all tables."""

from storage.models.audit import AuditChainHead, AuditEntry, AuditSeal
from storage.models.base import Base
from storage.models.calls import Call, CallEvent, Extension
from storage.models.keys import EncryptionKey
from storage.models.messaging import Appointment, InboundText, TextMessage, TextOptOut
from storage.models.privacy import (
    AccessLogEntry,
    Disclosure,
    LegalHold,
    PrivacyRequest,
    RetentionSchedule,
)
from storage.models.recordings import QaEvaluation, QaForm, Recording
from storage.models.requests import (
    ContactNameToken,
    Open311Key,
    RequestCall,
    RequestContact,
    RequestStatusChange,
    ServiceRequest,
    ServiceType,
)
from storage.models.staff import ApiToken, SignInFailure, StaffSession, StaffUser

__all__ = [
    "AccessLogEntry",
    "ApiToken",
    "Appointment",
    "AuditChainHead",
    "AuditEntry",
    "AuditSeal",
    "Base",
    "Call",
    "CallEvent",
    "ContactNameToken",
    "Disclosure",
    "EncryptionKey",
    "Extension",
    "InboundText",
    "LegalHold",
    "Open311Key",
    "PrivacyRequest",
    "QaEvaluation",
    "QaForm",
    "Recording",
    "RequestCall",
    "RequestContact",
    "RequestStatusChange",
    "RetentionSchedule",
    "ServiceRequest",
    "ServiceType",
    "SignInFailure",
    "StaffSession",
    "StaffUser",
    "TextMessage",
    "TextOptOut",
]
