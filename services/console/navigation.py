"""The console's pages and who may open them: one list, read by the navigation and the routes.

A page is shown in the navigation only to roles whose permissions include the page's, and
its route refuses everyone else with the same ``require()`` check as the API. To add a
page (the privacy officer's requests, holds and disclosures, say), add a ``Page`` here and
a route with ``page_guard(page)`` in ``views.py``.
"""

from __future__ import annotations

from dataclasses import dataclass

from services.platform.auth import Permission, Role, allows


@dataclass(frozen=True)
class Page:
    path: str
    title: str
    permission: Permission
    section: str


# The call taker's page, first so that agents land on it: one call at a time, in place.
WORKSPACE = Page("/console/workspace", "Workspace", Permission.REQUESTS_CREATE, "Calls")
LIVE = Page("/console/live", "Screen pop", Permission.REQUESTS_CREATE, "Calls")
NEW_REQUEST = Page("/console/requests/new", "New request", Permission.REQUESTS_CREATE, "Calls")
SEARCH = Page("/console/requests/search", "Find requests", Permission.REQUESTS_READ, "Calls")
REVIEW = Page("/console/requests/review", "Public feed review", Permission.REQUESTS_UPDATE, "Calls")
KNOWLEDGE = Page("/console/knowledge", "Knowledge base", Permission.KB_READ, "Answers")
WRAP_UP = Page("/console/contacts", "Wrap up contacts", Permission.CONTACTS_WRAP_UP, "Calls")
APPOINTMENTS = Page(
    "/console/appointments", "Book appointment", Permission.APPOINTMENTS_MANAGE, "Texts"
)
MESSAGES = Page("/console/messages", "Outbox and replies", Permission.MESSAGES_READ, "Texts")
# Update emails, and what the console gateway kept instead of sending (for trials).
EMAIL = Page("/console/email", "Email outbox", Permission.MESSAGES_READ, "Email")
CALLS = Page("/console/calls", "Call log", Permission.CALLS_READ, "Review")
WALLBOARD = Page("/console/wallboard", "Wallboard", Permission.REPORTS_AGENTS, "Review")
QA_FORMS = Page("/console/qa/forms", "QA forms", Permission.QA_FORMS_MANAGE, "Review")
RECORDINGS = Page("/console/recordings", "Recordings", Permission.RECORDINGS_READ, "Review")
EVALUATIONS = Page("/console/evaluations", "Evaluations", Permission.QA_OWN_READ, "Review")
DASHBOARD = Page("/console/dashboard", "Dashboard", Permission.REPORTS_READ, "Review")
PRIVACY_REQUESTS = Page(
    "/console/privacy/requests", "Access requests", Permission.PRIVACY_REQUESTS, "Privacy"
)
HOLDS = Page("/console/privacy/holds", "Legal holds", Permission.LEGAL_HOLDS, "Privacy")
DISCLOSURES = Page("/console/privacy/disclosures", "Disclosures", Permission.DISCLOSURES, "Privacy")
AUDIT = Page("/console/audit", "Audit trail", Permission.AUDIT_READ, "Privacy")
STAFF = Page("/console/admin/staff", "Staff accounts", Permission.STAFF_MANAGE, "Administration")
APPROVALS = Page(
    "/console/admin/approvals", "Approvals", Permission.STAFF_APPROVE, "Administration"
)
EXTENSIONS = Page(
    "/console/admin/extensions", "IVR menu", Permission.CONFIG_MANAGE, "Administration"
)
SERVICES = Page(
    "/console/admin/services", "Service catalogue", Permission.CONFIG_MANAGE, "Administration"
)
ALERTS = Page("/console/alerts", "News alerts", Permission.ALERTS_MANAGE, "Communications")
RETENTION = Page(
    "/console/admin/retention", "Retention", Permission.CONFIG_MANAGE, "Administration"
)

PAGES: tuple[Page, ...] = (
    WORKSPACE,
    LIVE,
    NEW_REQUEST,
    SEARCH,
    REVIEW,
    KNOWLEDGE,
    WRAP_UP,
    APPOINTMENTS,
    MESSAGES,
    EMAIL,
    WALLBOARD,
    CALLS,
    RECORDINGS,
    EVALUATIONS,
    QA_FORMS,
    DASHBOARD,
    PRIVACY_REQUESTS,
    HOLDS,
    DISCLOSURES,
    AUDIT,
    ALERTS,
    STAFF,
    APPROVALS,
    EXTENSIONS,
    SERVICES,
    RETENTION,
)


# Where each role starts its day, chosen rather than left to the order of the list:
# supervisors on the live wallboard, privacy officers on the due list. Roles not named
# here land on the first page they may open.
LANDINGS: dict[Role, tuple[Page, ...]] = {
    Role.SUPERVISOR: (WALLBOARD, CALLS),
    Role.PRIVACY_OFFICER: (PRIVACY_REQUESTS,),
}


def landing(role: Role) -> Page | None:
    """The page a role lands on after signing in: its chosen one, else its first."""
    for page in LANDINGS.get(role, ()):
        if allows(role, page.permission):
            return page
    pages = visible_pages(role)
    return pages[0] if pages else None


def visible_pages(role: Role) -> list[Page]:
    """The pages a role may open, in navigation order."""
    return [page for page in PAGES if allows(role, page.permission)]


def sections(role: Role) -> list[tuple[str, list[Page]]]:
    """The navigation for a role: sections in order, each with its pages."""
    grouped: dict[str, list[Page]] = {}
    for page in visible_pages(role):
        grouped.setdefault(page.section, []).append(page)
    return list(grouped.items())
