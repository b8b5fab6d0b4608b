"""Every model, imported here so that ``Base.metadata`` knows all tables."""

from storage.models.audit import AuditChainHead, AuditEntry, AuditSeal
from storage.models.base import Base
from storage.models.calls import Call, CallEvent, Extension
from storage.models.keys import EncryptionKey
from storage.models.messaging import Appointment, InboundText, TextMessage, TextOptOut
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
    "ApiToken",
    "Appointment",
    "AuditChainHead",
    "AuditEntry",
    "AuditSeal",
    "Base",
    "Call",
    "CallEvent",
    "ContactNameToken",
    "EncryptionKey",
    "Extension",
    "InboundText",
    "Open311Key",
    "QaEvaluation",
    "QaForm",
    "Recording",
    "RequestCall",
    "RequestContact",
    "RequestStatusChange",
    "ServiceRequest",
    "ServiceType",
    "SignInFailure",
    "StaffSession",
    "StaffUser",
    "TextMessage",
    "TextOptOut",
]
