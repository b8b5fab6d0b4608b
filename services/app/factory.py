"""The application shell: read settings once, wire the pieces, build the FastAPI app."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from services.alerts import jobs as alert_jobs
from services.alerts.api import router as alerts_router
from services.app import ops
from services.app.features import load_models, personal_data_registry
from services.app.policies import city_of, policies
from services.appointments.api import router as appointments_router
from services.audit.api import router as audit_router
from services.calls.api import router as calls_router
from services.console import pages as console
from services.contacts.api import callbacks_router
from services.contacts.api import router as contacts_router
from services.directory import service as directory
from services.directory.api import router as directory_router
from services.disclosures.api import router as disclosures_router
from services.email import jobs as email_jobs
from services.email.api import router as email_router
from services.knowledge.api import router as knowledge_router
from services.messaging import jobs as text_jobs
from services.messaging.api import router as messaging_router
from services.open311 import render as open311_render
from services.open311.api import router as open311_router
from services.platform import audit, text_guard
from services.platform.accesslog import AccessLog
from services.platform.clock import Clock, SystemClock
from services.platform.context import AppContext
from services.platform.errors import ErrorFormat, install_problem_handlers
from services.platform.observability import RequestContextMiddleware
from services.platform.queue import JobLedger, Jobs, make_huey
from services.platform.ratelimit import RateLimiter
from services.platform.security_headers import SecurityHeadersMiddleware
from services.platform.settings import Settings
from services.privacy.api import router as privacy_router
from services.recordings import jobs as recording_jobs
from services.recordings.api import router as recordings_router
from services.recordings.audio import ffmpeg_problem
from services.reports.api import router as reports_router
from services.requests import catalogue
from services.requests.api import router as requests_router
from services.retention.api import router as retention_router
from services.retention.jobs import retention_job
from services.staff import sign_in
from services.staff.api import router as staff_router
from services.updates import jobs as update_jobs
from services.updates.api import router as updates_router
from storage.blobs import open_blob_store
from storage.crypto import Keyring, MasterKey, MasterKeyError, load_or_create_master_key
from storage.db import make_engine, make_session_factory, reading
from storage.group_commit import GroupCommitter
from telephony import recordings as recording_webhooks
from telephony import sms as sms_webhooks
from telephony import voice
from telephony.signature import WebhookVerifier

load_models()
log = logging.getLogger("switchboard")


def build_context(settings: Settings, *, clock: Clock | None = None) -> AppContext:
    """Engine, sessions, keys, clock and every feature's policies for ``settings``.
    Warns when it made a master key; ValueError for a setting that cannot be used."""
    clock = clock or SystemClock()
    parts = policies(settings, clock)  # a bad setting fails here, not mid-call
    raw_key, generated = load_or_create_master_key(
        settings.master_key.get_secret_value() if settings.master_key else None, settings.data_dir
    )
    if generated:
        log.warning(
            "generated a master key in DATA_DIR/master.key; set SWITCHBOARD_MASTER_KEY "
            "from a secrets store and back it up, or encrypted data is lost with this file"
        )
    engine = make_engine(settings.database_url)
    db = make_session_factory(engine)
    jobs = Jobs(
        make_huey(settings.queue_url, settings.data_dir),
        embedded=not (settings.queue_url or "").startswith(("redis", "unix")),
        ledger=JobLedger(db, lease_seconds=settings.job_lease_seconds),
    )
    keyring = Keyring(MasterKey(raw_key), db)
    audit.attach_chain_keys(db, keyring)
    context = AppContext(
        engine=engine,
        db=db,
        keyring=keyring,
        clock=clock,
        city=city_of(settings),
        ingest=GroupCommitter(
            db, writers=1 if settings.is_embedded_database else 4, name="webhooks"
        ),
        jobs=jobs,
        blobs=open_blob_store(settings.blob_url, s3_endpoint_url=settings.s3_endpoint_url),
    )
    for part in parts:
        context.parts.provide(part)
    registry = personal_data_registry()
    context.parts.provide(registry)
    # No typed text reaches the database or the keyring with an SSN-like number in it.
    text_guard.install(db, keyring, registry)
    context.parts.provide(sign_in.authentication(keyring, context.part(sign_in.SessionPolicy)))
    if settings.access_log:
        context.access_log = AccessLog(context.db, context.clock)
    jobs.bind(context)
    register_jobs(jobs, settings)
    return context


def register_jobs(jobs: Jobs, settings: Settings) -> None:
    """Every background job, by name. Each domain's handlers take (context, payload)."""
    jobs.register_periodic("audit.seal_months", seal_audit_months, minute="17", hour="0")
    jobs.register_periodic("audit.checkpoint", checkpoint_audit_chain, minute="*/5")
    # Work that reaches outside (Twilio's media, the SMS and mail gateways) is retried
    # with growing delays, as many times as its setting allows.
    for name, handler, attempts, first_delay in (
        (
            "recordings.process",
            recording_jobs.process_recording,
            settings.recording_max_attempts,
            15,
        ),
        ("sms.send", text_jobs.send_one, settings.sms_max_attempts, 5),
        ("email.send", email_jobs.send_one, settings.email_max_attempts, 10),
        ("alerts.confirmation", alert_jobs.confirmation, settings.email_max_attempts, 10),
    ):
        jobs.register(name, handler, retries=attempts, retry_delay=first_delay, retry_backoff=2)
    jobs.register_periodic("recordings.sweep", recording_jobs.sweep_recordings, minute="*/5")
    jobs.register_periodic("sms.due", text_jobs.send_due, minute="*")
    jobs.register_periodic("email.due", email_jobs.send_due, minute="*")
    jobs.register("updates.tell", update_jobs.tell)
    jobs.register_periodic("updates.due", update_jobs.tell, minute="*")
    # One long job per alert; a crash is resumed by the sweep, not by the queue's retries.
    jobs.register("alerts.send", alert_jobs.send, retries=0)
    jobs.register_periodic("alerts.resume", alert_jobs.resume, minute="*")
    jobs.register_periodic("retention.nightly", retention_job, minute="30", hour="7")


def seal_audit_months(context: AppContext, _payload: dict[str, object]) -> None:
    """Seal the audit trail's complete months (daily; sealing is idempotent), then anchor
    the chain's tip outside the database."""
    with context.db.begin() as session:
        now = context.clock.now()
        months = audit.seal_months(session, now=now)
        if months:
            audit.record(
                session,
                actor=audit.SYSTEM,
                action="audit.seal",
                at=now,
                object_type="audit_log",
                detail={"months": months},
            )
    checkpoint_audit_chain(context, {})


def checkpoint_audit_chain(context: AppContext, _payload: dict[str, object]) -> None:
    """Write a signed checkpoint of the audit chain's tip to the blob store (every few
    minutes): deleting entries older than it is found by ``audit verify``."""
    with reading(context.db) as session:
        audit.write_checkpoint(session, context.blobs, now=context.clock.now())


def bootstrap(context: AppContext) -> None:
    """First-start data for a migrated database: keys, the audit chain, the IVR menu."""
    with context.db.begin() as session:
        context.keyring.ensure_keys(session)
        audit.ensure_chain(session)
        directory.ensure_menu(session, context.part(Settings).ivr_menu_file)
        catalogue.ensure_catalogue(session)
    try:
        _key_audit_chain(context)
        checkpoint_audit_chain(context, {})
    except MasterKeyError:
        # The chain's key comes from keys this MASTER_KEY does not open: serve anyway, so
        # that /readyz says so (503) and a load balancer keeps traffic away, instead of a
        # process that will not start and says nothing to the proxy.
        log.error("the master key does not open the stored keys; see /readyz")


def _key_audit_chain(context: AppContext) -> None:
    """Move an audit chain written before the chain key onto it, once, if it verifies."""
    try:
        with context.db.begin() as session:
            rehashed = audit.key_chain(session)
            if rehashed is not None:
                audit.record(
                    session,
                    actor=audit.SYSTEM,
                    action="audit.rekey",
                    at=context.clock.now(),
                    object_type="audit_log",
                    detail={"entries": rehashed},
                )
    except audit.ChainBroken as broken:
        log.error("the audit trail does not verify, so it was not re-keyed: %s", broken)


def create_app(context: AppContext) -> FastAPI:
    """The ASGI app for a built context (see ``build_context``)."""
    settings = context.part(Settings)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if not settings.twilio_auth_token:
            log.warning("SWITCHBOARD_TWILIO_AUTH_TOKEN is not set: every Twilio webhook gets 403")
        context.ingest.start()
        if context.access_log is not None:
            context.access_log.start()
        problem = ffmpeg_problem(settings.ffmpeg_path)
        if problem is not None:
            log.error("recordings cannot be processed: %s", problem)
        if context.jobs.embedded and settings.embedded_worker:
            context.jobs.start_consumer()
        yield
        context.jobs.stop_consumer()
        if context.access_log is not None:
            context.access_log.stop()
        context.ingest.stop()
        context.engine.dispose()

    app = FastAPI(
        title="Switchboard 311",
        version="0.1.0",
        summary="The contact log behind a city's 311 line.",
        lifespan=lifespan,
        # The interactive docs pages load scripts from a CDN; the schema stays at /openapi.json.
        docs_url=None,
        redoc_url=None,
    )
    app.state.context = context
    app.state.webhook_verifier = WebhookVerifier(
        settings.twilio_auth_token.get_secret_value() if settings.twilio_auth_token else None,
        settings.public_url,
    )
    app.state.rate_limiter = RateLimiter()
    # Open311's clients read errors in its own format, whatever the error's cause.
    error_formats = (ErrorFormat(open311_render.PREFIX, open311_render.error_format),)
    install_problem_handlers(app, error_formats)
    # The last added is outermost: the security headers wrap even the request
    # middleware's own answers (a body too large, an unexpected error).
    app.add_middleware(
        RequestContextMiddleware,
        metrics=context.metrics,
        max_body_bytes=settings.max_api_body_bytes,
        max_webhook_body_bytes=settings.max_webhook_body_bytes,
        access_log=context.access_log,
        error_formats=error_formats,
    )
    app.add_middleware(SecurityHeadersMiddleware, https=settings.served_over_https)
    for router in (
        ops.router,
        voice.router,
        recording_webhooks.router,
        sms_webhooks.router,
        staff_router,
        audit_router,
        calls_router,
        contacts_router,
        callbacks_router,
        requests_router,
        open311_router,
        recordings_router,
        directory_router,
        appointments_router,
        messaging_router,
        email_router,
        updates_router,
        alerts_router,
        retention_router,
        privacy_router,
        reports_router,
        disclosures_router,
        knowledge_router,
    ):
        app.include_router(router)
    console.install(app)
    return app
