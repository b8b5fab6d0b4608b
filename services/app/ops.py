"""Operations endpoints: the site's root, liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import contextlib
import shutil

from fastapi import APIRouter
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from services.platform import audit
from services.platform.context import AppContext, ContextDep
from services.platform.settings import Settings
from services.recordings.audio import ffmpeg_problem
from services.recordings.models import Recording

RECORDING_STATES = ("pending", "verified", "done", "absent", "failed")

router = APIRouter(tags=["operations"])


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    """People who open the site's address are sent to the console (it asks them to sign in)."""
    return RedirectResponse("/console/", status_code=307)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
def readyz(context: ContextDep) -> JSONResponse:
    """The process can reach its database and its keys open."""
    checks: dict[str, str] = {}
    try:
        with context.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        checks["database"] = "unavailable"
    try:
        context.keyring.check_open()
        checks["keys"] = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        checks["keys"] = "unavailable"
    checks["ffmpeg"] = (
        "ok" if ffmpeg_problem(context.part(Settings).ffmpeg_path) is None else "unavailable"
    )
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


@router.get("/metrics")
def metrics(context: ContextDep) -> Response:
    """Prometheus metrics. Labels are route templates and statuses, never personal data."""
    _read_figures(context)
    return Response(generate_latest(context.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _read_figures(context: AppContext) -> None:
    """The figures the alert rules watch (deploy/prometheus/alerts.yml), from the database."""
    figures = context.metrics
    settings = context.part(Settings)
    # No DATA_DIR on this host: node_exporter watches the disks.
    with contextlib.suppress(OSError):
        figures.data_dir_free.set(shutil.disk_usage(settings.data_dir).free)
    now = context.clock.now()
    try:
        if context.jobs.ledger is not None:
            owed, oldest = context.jobs.ledger.owed()
            figures.jobs_owed.set(owed)
            age = 0.0 if oldest is None else (context.jobs.ledger.now() - oldest).total_seconds()
            figures.jobs_oldest_age.set(max(0.0, age))
        with context.db() as session:
            counts = dict(
                session.execute(
                    select(Recording.state, func.count()).group_by(Recording.state)
                ).all()
            )
            for state in RECORDING_STATES:
                figures.recordings.labels(state).set(counts.get(state, 0))
            figures.audit_seal_overdue.set(audit.seal_overdue(session, now=now))
    except SQLAlchemyError:
        figures.scrape_errors.inc()
