"""The ``switchboard`` command."""

from __future__ import annotations

import argparse
import errno
import getpass
import json
import logging
import socket
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import uvicorn
from pydantic import TypeAdapter, ValidationError

from services.app.factory import bootstrap, build_context, create_app
from services.app.trial import run_trial
from services.knowledge import actions as knowledge_actions
from services.knowledge.schemas import ArticleIn
from services.knowledge.service import STARTER_SET
from services.open311 import actions as open311_actions
from services.platform import audit, key_rotation
from services.platform.actions import unit_of_work
from services.platform.context import AppContext
from services.platform.errors import Problem
from services.platform.observability import configure_logging
from services.platform.params import within_range
from services.platform.roles import Role
from services.platform.settings import Settings
from services.retention import actions as retention_actions
from services.staff import actions as staff_actions
from services.staff.schemas import NewStaff
from storage import migrate
from storage.backup import BackupError, backup_database, restore_database
from storage.crypto import ACTIVE_KEY_REFRESH_SECONDS, CryptoError, MasterKey, decode_master_key
from storage.db import reading
from telephony.simulate import CITY_NUMBER, ProgressBar, SimulationStopped, run_simulation

# simulate draws a progress bar (on a terminal) for runs of at least this many calls.
PROGRESS_FROM_CALLS = 100


def _context(settings: Settings) -> AppContext:
    return build_context(settings)


def _listening_socket(host: str, port: int) -> socket.socket:
    """The socket ``serve`` listens on, bound before anything else starts, so a port that
    another program holds is one clear line instead of a trace after start-up."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            reason = (
                f"port {port} on {host} is in use by another program: stop it, or serve on "
                "another port with --port (and set SWITCHBOARD_PUBLIC_URL to match)"
            )
        elif exc.errno == errno.EACCES:
            reason = f"this user may not listen on port {port}: choose one above 1023 with --port"
        else:
            reason = f"cannot listen on {host}:{port}: {exc.strerror}"
        raise ServeRefused(reason) from None
    sock.set_inheritable(True)
    return sock


def public_url_mismatch(public_url: str, port: int) -> str | None:
    """A warning when PUBLIC_URL names this machine but another port than the one served:
    every webhook signed for the address actually used would then be refused. (Behind a
    proxy PUBLIC_URL differs from the listening address on purpose; that is not this.)"""
    parsed = urlsplit(public_url)
    if parsed.hostname not in ("127.0.0.1", "localhost", "::1"):
        return None
    named = parsed.port or (443 if parsed.scheme == "https" else 80)
    if named == port:
        return None
    return (
        f"warning: SWITCHBOARD_PUBLIC_URL is {public_url} but this server listens on port "
        f"{port}, so webhooks sent here will fail their signature check: set "
        f"SWITCHBOARD_PUBLIC_URL={parsed.scheme}://{parsed.hostname}:{port}"
    )


class ServeRefused(Exception):
    """``serve`` cannot start; the message says why and what to do."""


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    try:
        sock = _listening_socket(args.host, args.port)
    except ServeRefused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return 1
    mismatch = public_url_mismatch(settings.public_url, args.port)
    if mismatch:
        print(mismatch, file=sys.stderr)
    if settings.is_embedded_database:
        migrate.upgrade(settings.database_url)
    context = _context(settings)
    bootstrap(context)
    config = uvicorn.Config(
        create_app(context),
        host=args.host,
        port=args.port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=True,
        forwarded_allow_ips=settings.forwarded_allow_ips,
        # Open event streams end with the browser; at shutdown, wait this long at most.
        timeout_graceful_shutdown=5,
    )
    with sock:
        uvicorn.Server(config).run(sockets=[sock])
    return 0


def cmd_worker(settings: Settings, args: argparse.Namespace) -> int:
    context = _context(settings)
    context.ingest.start()
    try:
        context.jobs.run_worker(workers=args.workers)
    finally:
        context.ingest.stop()
    return 0


def cmd_db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    migrate.upgrade(settings.database_url)
    bootstrap(_context(settings))
    print("database is up to date")
    return 0


def _refused(error: Problem | ValidationError) -> int:
    """Say why a command was refused, on stderr, and give the exit status for it."""
    if isinstance(error, ValidationError):
        message = "; ".join(
            f"{'.'.join(str(part) for part in problem['loc'])}: {problem['msg']}"
            for problem in error.errors()
        )
    else:
        message = error.detail or error.title
    print(f"error: {message}", file=sys.stderr)
    return 2


def cmd_users_add(settings: Settings, args: argparse.Namespace) -> int:
    if args.password_stdin:
        password: str | None = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
    else:
        password = None  # an account that signs in with API tokens only
    try:
        new = NewStaff(
            username=args.name,
            role=Role(args.role),
            password=password,
            destination=args.destination,
            department=args.department,
        )
    except ValidationError as error:
        return _refused(error)
    # The operator on the server: direct (and audited), no second person.
    user = staff_actions.create_staff(_context(settings), audit.SYSTEM, new, via="cli", direct=True)
    print(f"added {user.username} ({user.role.value})")
    return 0


def cmd_tokens_issue(settings: Settings, args: argparse.Namespace) -> int:
    issued = staff_actions.issue_token(
        _context(settings), audit.SYSTEM, username=args.name, days=args.days, via="cli"
    )
    print(issued.token)
    return 0


def cmd_tokens_list(settings: Settings, args: argparse.Namespace) -> int:
    context = _context(settings)
    tokens = staff_actions.list_tokens(context, audit.SYSTEM, username=args.name, via="cli")
    now = context.clock.now()
    print(f"{'id':>5}  {'user':<20} {'label':<12} {'expires':<25} state")
    for token in tokens.items:
        state = (
            "revoked" if token.revoked_at else "expired" if token.expires_at <= now else "active"
        )
        expires = token.expires_at.astimezone(context.city_tz).isoformat(timespec="minutes")
        print(f"{token.id:>5}  {token.username:<20} {token.label:<12} {expires:<25} {state}")
    return 0


def cmd_tokens_revoke(settings: Settings, args: argparse.Namespace) -> int:
    staff_actions.revoke_token(_context(settings), audit.SYSTEM, args.id, via="cli")
    print(f"revoked token {args.id}")
    return 0


def cmd_open311_issue(settings: Settings, args: argparse.Namespace) -> int:
    issued = open311_actions.issue_key(_context(settings), audit.SYSTEM, name=args.name, via="cli")
    print(issued.key)
    return 0


def cmd_open311_list(settings: Settings, _args: argparse.Namespace) -> int:
    for key in open311_actions.list_keys(_context(settings)):
        state = "revoked" if key.revoked else "active"
        print(f"{key.id:>5}  {key.name:<40} {state}")
    return 0


def cmd_open311_revoke(settings: Settings, args: argparse.Namespace) -> int:
    open311_actions.revoke_key(_context(settings), audit.SYSTEM, args.id, via="cli")
    print(f"revoked Open311 key {args.id}")
    return 0


def cmd_keys_rotate(settings: Settings, args: argparse.Namespace) -> int:
    rotation = key_rotation.rotate_keys(
        _context(settings), audit.SYSTEM, settle_seconds=args.settle_seconds, say=print
    )
    if rotation.left_under_retired:
        print(
            f"error: {rotation.left_under_retired} values are still sealed under a retired "
            "key; run again",
            file=sys.stderr,
        )
        return 1
    print(f"destroyed retired data keys {rotation.destroyed}")
    return 0


def cmd_keys_rewrap(settings: Settings, _args: argparse.Namespace) -> int:
    new_text = sys.stdin.readline().strip()
    try:
        new_master = MasterKey(decode_master_key(new_text))
    except CryptoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    count = key_rotation.rewrap_keys(_context(settings), audit.SYSTEM, new_master)
    print(f"re-wrapped {count} keys; now set SWITCHBOARD_MASTER_KEY to the new key")
    return 0


def cmd_audit_verify(settings: Settings, _args: argparse.Namespace) -> int:
    context = _context(settings)
    with context.db() as session:
        result = audit.verify(session, blobs=context.blobs)
    if result.intact:
        print(f"audit trail intact: {result.checked} entries")
        return 0
    print(
        f"audit trail broken at entry {result.first_bad_seq}: {result.reason} "
        f"({result.checked} entries verified before it)"
    )
    return 1


def cmd_audit_checkpoint(settings: Settings, _args: argparse.Namespace) -> int:
    context = _context(settings)
    with reading(context.db) as session:
        written = audit.write_checkpoint(session, context.blobs, now=context.clock.now())
    print(f"checkpoint of the audit chain at entry {written.seq} written to the blob store")
    return 0


def cmd_backup(settings: Settings, args: argparse.Namespace) -> int:
    destination = Path(
        args.output or datetime.now(UTC).strftime("switchboard-%Y%m%dT%H%M%SZ.backup")
    )
    context = _context(settings)
    # The backup is recorded in the trail it copies, so a restored trail shows it.
    with unit_of_work(context, audit.SYSTEM, "database.backup", object_type="database") as work:
        work.note(via="cli")
    context.engine.dispose()
    try:
        backup_database(settings.database_url, destination)
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"backup written to {destination} ({destination.stat().st_size} bytes)")
    return 0


def cmd_restore(settings: Settings, args: argparse.Namespace) -> int:
    try:
        restore_database(settings.database_url, Path(args.input))
    except BackupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    migrate.upgrade(settings.database_url)  # a backup of an older release catches up
    print("restored; now run `switchboard audit verify`")
    return 0


def _instant(text: str) -> datetime:
    """An ISO date or date-time; a date means its midnight, a naive time means UTC."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError("use an ISO date or time, e.g. 2027-01-31") from None
    try:
        within_range(parsed)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def cmd_retention_run(settings: Settings, args: argparse.Namespace) -> int:
    context = _context(settings)
    report = retention_actions.run_retention(
        context, audit.SYSTEM, as_of=args.as_of, dry_run=args.dry_run, via="cli"
    )
    verb = "would destroy" if args.dry_run else "destroyed"
    print(f"retention as of {report.as_of.isoformat()}: {verb} {report.total} rows")
    for name, count in sorted(report.counts.items()):
        print(f"  {name:<18} {count:>10}")
    for name, count in sorted(report.held.items()):
        print(f"  {name:<18} {count:>10} kept by legal holds")
    if report.blobs_deleted:
        print(f"  recording blobs deleted: {report.blobs_deleted}")
    return 0


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    token = settings.twilio_auth_token
    if token is None:
        print("error: SWITCHBOARD_TWILIO_AUTH_TOKEN is needed to sign webhooks", file=sys.stderr)
        return 2
    if not args.verbose:
        # httpx logs every request at INFO: one line per webhook would bury the summary.
        for name in ("httpx", "httpcore"):
            logging.getLogger(name).setLevel(logging.WARNING)
    # A bar only on a terminal and for runs long enough to wait for.
    progress = ProgressBar(sys.stderr) if args.calls >= PROGRESS_FROM_CALLS else None
    try:
        summary = run_simulation(
            url=(args.url or settings.public_url).rstrip("/"),
            auth_token=token.get_secret_value(),
            account_sid=settings.twilio_account_sid,
            calls=args.calls,
            seed=args.seed,
            concurrency=args.concurrency,
            region=settings.default_region,
            report_path=args.report,
            line_numbers=[n for n in (CITY_NUMBER, settings.twilio_from_number) if n],
            progress=progress,
            texts=args.texts,
            retries=args.retries,
        )
    except SimulationStopped as stopped:
        if progress is not None:
            progress.finish()
        print(f"error: {stopped}", file=sys.stderr)
        return 1
    if progress is not None:
        progress.finish()
    print(summary.describe())
    return 0 if summary.failures == 0 else 1


def cmd_kb_import(settings: Settings, args: argparse.Namespace) -> int:
    path = STARTER_SET if args.starter else args.file
    if path is None:
        print(
            "error: name a FILE, or --starter for the articles that ship with Switchboard",
            file=sys.stderr,
        )
        return 2
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        print(f"error: cannot read {path}: {error}", file=sys.stderr)
        return 2
    try:
        rows = TypeAdapter(list[ArticleIn]).validate_python(document)
    except ValidationError as error:
        return _refused(error)
    result = knowledge_actions.import_articles(_context(settings), audit.SYSTEM, rows)
    print(f"{result.created} created, {result.updated} updated, {result.unchanged} unchanged")
    return 0


def cmd_try(_settings: Settings, args: argparse.Namespace) -> int:
    return run_trial(port=args.port, calls=args.calls)


def _group(commands: Any, name: str, help_text: str) -> Any:
    """A command with subcommands, e.g. ``switchboard tokens …``."""
    return commands.add_parser(name, help=help_text).add_subparsers(
        dest=f"{name}_command", required=True
    )


def _add_service_commands(commands: Any) -> None:
    serve = commands.add_parser("serve", help="serve webhooks, the staff API and console")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.set_defaults(handler=cmd_serve)
    worker = commands.add_parser("worker", help="run the job worker on its own")
    worker.add_argument("--workers", type=int, default=4, help="worker threads")
    worker.set_defaults(handler=cmd_worker)
    db = _group(commands, "db", "database migrations")
    db.add_parser("upgrade", help="apply Alembic migrations").set_defaults(handler=cmd_db_upgrade)
    backup = commands.add_parser("backup", help="write a consistent copy of the database")
    backup.add_argument("--output", default=None, help="a new file (default: timestamped here)")
    backup.set_defaults(handler=cmd_backup)
    restore = commands.add_parser("restore", help="restore a backup into an empty database")
    restore.add_argument("--input", required=True, help="a file `switchboard backup` wrote")
    restore.set_defaults(handler=cmd_restore)
    simulate = commands.add_parser("simulate", help="play signed Twilio webhooks at a server")
    simulate.add_argument("--url", default=None, help="the server's PUBLIC_URL")
    simulate.add_argument("--calls", type=int, default=20)
    simulate.add_argument("--seed", type=int, default=None)
    simulate.add_argument("--concurrency", type=int, default=8)
    simulate.add_argument("--texts", type=int, default=0, help="text conversations to play as well")
    simulate.add_argument(
        "--report", default=None, help="write each call's expected record as JSON"
    )
    simulate.add_argument(
        "--verbose", action="store_true", help="log every webhook request as it is sent"
    )
    simulate.add_argument(
        "--retries",
        type=int,
        default=0,
        help="send a webhook again after a 5xx or a broken connection, as Twilio does",
    )
    simulate.set_defaults(handler=cmd_simulate)
    trial = commands.add_parser(
        "try", help="a throwaway server with simulated calls and a staff account, until Ctrl-C"
    )
    trial.add_argument("--port", type=int, default=8000)
    trial.add_argument("--calls", type=int, default=50)
    trial.set_defaults(handler=cmd_try)


def _add_staff_commands(commands: Any) -> None:
    users = _group(commands, "users", "staff accounts")
    add = users.add_parser("add", help="add a staff account")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=[role.value for role in Role])
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.add_argument(
        "--destination", help="where the person's calls ring: +E.164, sip:URI or client:NAME"
    )
    add.add_argument("--department", help="the IVR menu key whose calls they take")
    add.set_defaults(handler=cmd_users_add)
    tokens = _group(commands, "tokens", "API bearer tokens")
    issue = tokens.add_parser("issue", help="print a new bearer token, alone, on stdout")
    issue.add_argument("name")
    issue.add_argument("--days", type=int, default=30)
    issue.set_defaults(handler=cmd_tokens_issue)
    listing = tokens.add_parser("list", help="tokens (never their secrets), newest first")
    listing.add_argument("name", nargs="?", default=None)
    listing.set_defaults(handler=cmd_tokens_list)
    revoke = tokens.add_parser("revoke", help="revoke a token at once")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=cmd_tokens_revoke)


def _add_privacy_commands(commands: Any) -> None:
    audit_cmd = _group(commands, "audit", "the audit trail")
    audit_cmd.add_parser(
        "verify",
        help="exit 1 if any entry was changed, removed or reordered, or the chain stops "
        "short of its latest signed checkpoint",
    ).set_defaults(handler=cmd_audit_verify)
    audit_cmd.add_parser(
        "checkpoint", help="sign the chain's tip into the blob store now (the job does it too)"
    ).set_defaults(handler=cmd_audit_checkpoint)
    keys_cmd = _group(commands, "keys", "encryption keys")
    rotate = keys_cmd.add_parser("rotate", help="new data key; re-seal everything; destroy the old")
    rotate.add_argument(
        "--settle-seconds",
        type=float,
        default=ACTIVE_KEY_REFRESH_SECONDS + 5,
        help="wait for other processes to pick up the new key before the final sweep",
    )
    rotate.set_defaults(handler=cmd_keys_rotate)
    keys_cmd.add_parser(
        "rewrap", help="re-wrap every key under a new master key read from stdin"
    ).set_defaults(handler=cmd_keys_rewrap)
    retention = _group(commands, "retention", "retention schedules and the purge")
    run = retention.add_parser("run", help="destroy what the schedules no longer keep")
    run.add_argument("--as-of", type=_instant, default=None, help="purge as if it were then")
    run.add_argument("--dry-run", action="store_true", help="count, change nothing")
    run.set_defaults(handler=cmd_retention_run)


def _add_integration_commands(commands: Any) -> None:
    open311 = _group(commands, "open311", "the Open311 GeoReport interface")
    keys_cmd = open311.add_parser("keys", help="API keys for civic apps").add_subparsers(
        dest="keys_command", required=True
    )
    issue_key = keys_cmd.add_parser("issue", help="print a new API key, alone, on stdout")
    issue_key.add_argument("name", help="the app it is for")
    issue_key.set_defaults(handler=cmd_open311_issue)
    keys_cmd.add_parser("list", help="keys by id (never the keys)").set_defaults(
        handler=cmd_open311_list
    )
    revoke_key = keys_cmd.add_parser("revoke", help="revoke a key at once")
    revoke_key.add_argument("id", type=int)
    revoke_key.set_defaults(handler=cmd_open311_revoke)


def _add_knowledge_commands(commands: Any) -> None:
    kb = _group(commands, "kb", "the knowledge base")
    load = kb.add_parser(
        "import", help="load articles from a JSON list (by code: new, changed or left alone)"
    )
    load.add_argument("file", nargs="?", default=None, help="a JSON list of articles")
    load.add_argument(
        "--starter", action="store_true", help="the starter articles that ship with Switchboard"
    )
    load.set_defaults(handler=cmd_kb_import)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="switchboard", description="Switchboard 311")
    commands = parser.add_subparsers(dest="command", required=True)
    _add_service_commands(commands)
    _add_staff_commands(commands)
    _add_privacy_commands(commands)
    _add_integration_commands(commands)
    _add_knowledge_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    configure_logging(settings.log_level)
    try:
        code: int = args.handler(settings, args)
    except Problem as refusal:  # an action said no (and audited it): say why, not a trace
        return _refused(refusal)
    return code


if __name__ == "__main__":
    sys.exit(main())
