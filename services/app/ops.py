"""Operations endpoints: the site's root, liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, RedirectResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from services.platform.context import ContextDep
from services.platform.settings import Settings
from services.recordings.audio import ffmpeg_problem

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
        context.keyring.active_data_key_id()
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
    return Response(generate_latest(context.metrics.registry), media_type=CONTENT_TYPE_LATEST)
