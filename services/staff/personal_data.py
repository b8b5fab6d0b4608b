"""What staff accounts hold: each second-factor secret, sealed; sign-in sessions and
failures are kept a short while for security and then destroyed."""

from __future__ import annotations

from sqlalchemy import String, cast, func, select

from services.platform.personal_data import (
    FreeText,
    PersonalData,
    PurgeStep,
    RecordClass,
    Sealed,
    Sweep,
    delete_rows,
)
from services.staff.models import SignInFailure, SignInLock, StaffSession, StaffUser


def _purge(sweep: Sweep) -> None:
    cutoff = sweep.cutoff("sessions")
    sweep.walk(
        "sessions",
        select(StaffSession.id).where(
            func.coalesce(StaffSession.ended_at, StaffSession.expires_at) < cutoff
        ),
        StaffSession.id,
        delete_rows(StaffSession, StaffSession.id),
    )
    sweep.walk(
        "sign_in_locks",
        select(SignInLock.account_hash).where(SignInLock.locked_until < cutoff),
        SignInLock.account_hash,
        delete_rows(SignInLock, SignInLock.account_hash),
        counted=False,
    )
    sweep.walk(
        "sign_in_failures",
        select(SignInFailure.id).where(SignInFailure.occurred_at < cutoff),
        SignInFailure.id,
        delete_rows(SignInFailure, SignInFailure.id),
    )


PERSONAL_DATA = PersonalData(
    feature="staff",
    sealed=(
        Sealed(StaffUser.totp_secret_sealed, "staff_users", "totp", cast(StaffUser.id, String)),
        Sealed(
            StaffUser.totp_pending_sealed,
            "staff_users",
            "totp_pending",
            cast(StaffUser.id, String),
        ),
    ),
    free_text=(
        FreeText(StaffUser.password_hash, personal=False, typed=False),
        # Where a staff member's calls ring: the city's own lines and identities.
        FreeText(StaffUser.destination, personal=False, typed=False),
    ),
    record_classes=(
        RecordClass(
            "sessions", "ended console sessions and sign-in failures", "the end", 30, "days"
        ),
    ),
    purge=(PurgeStep("sessions", 30, _purge),),
)
