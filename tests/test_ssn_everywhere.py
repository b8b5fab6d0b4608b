"""No Social Security number is gathered, whichever way it is spelled and whichever
field it is typed into.

The test walks every free-text field a member of staff can type into through the HTTP
API, with every SSN-like spelling an outside review used (glued to letters, trailing
dashes, dots, en dashes, slashes, underscores, no-break spaces, tabs, full-width
digits): each is refused with a 422 naming the field and never echoing the number. The
same body with ordinary text is accepted, so the refusal is the number's doing. Text
from the public (an Open311 submission, a text message) is kept with the number
redacted. Then it reads the raw bytes of the SQLite database, its write-ahead log and
every other file the app wrote, and finds the digits nowhere.

A second test keeps the walk complete: every free-text string in a staff request body
of the OpenAPI document must be walked here, or listed with the reason it is not.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from services.open311 import api_keys as keys
from services.platform import ssn
from services.platform.context import AppContext
from tests.support import StaffFactory, TwilioClient, served, stored_recording

AREA, GROUP, SERIAL = "387", "61", "4529"
FULL_WIDTH = {ord(str(digit)): 0xFF10 + digit for digit in range(10)}


def spelled(separator: str, before: str = "", after: str = "") -> str:
    return f"{before}{AREA}{separator}{GROUP}{separator}{SERIAL}{after}"


SPELLINGS = [
    spelled("-"),
    spelled("-", "SSN-"),
    spelled("", "SSN"),
    spelled("-", after="-"),
    spelled(".", after="."),
    spelled("\u2013"),  # en dash
    spelled("\u2014"),  # em dash
    spelled("/"),
    spelled("_"),
    spelled("\u00a0"),  # no-break space
    spelled("\t"),
    spelled(" - "),
    f"{AREA}-{GROUP} {SERIAL}",
    spelled("-").translate(FULL_WIDTH),
]
# The digits with anything but digits between them, in UTF-8 (and in full width).
LEAK = re.compile(
    rb"387\D{0,12}61\D{0,12}4529|"
    + re.escape(AREA.translate(FULL_WIDTH).encode())
    + rb".{0,12}"
    + re.escape(GROUP.translate(FULL_WIDTH).encode())
)
MOBILE = "(302) 555-0123"


def leaked(text: str | bytes) -> bool:
    return LEAK.search(text.encode() if isinstance(text, str) else text) is not None


@dataclass
class Field:
    """A free-text field: the request that carries it, with ``text`` in it."""

    name: str  # as the OpenAPI walk below names it: "METHOD path field"
    send: Callable[[str], Any]
    fine: str = "Pothole by the school gate"

    def texts(self, spelling: str) -> list[str]:
        """The spelling alone and inside a sentence; for an email, as its local part
        (an address, else it would be refused for not being one)."""
        if self.fine.endswith("@example.org"):
            return [re.sub(r"\s+", ".", spelling) + "@example.org"]
        return [spelling, f"caller said {spelling} by mistake"]


class World:
    """The objects the fields belong to, made once through the API."""

    def __init__(self, client: TestClient, context: AppContext) -> None:
        staff = StaffFactory(context)
        self.client, self.context = client, context
        self.agent = staff.headers("agent", "ana")
        self.supervisor = staff.headers("supervisor", "sam")
        self.officer = staff.headers("privacy_officer", "olga")
        self.admin = staff.headers("admin", "adam")
        self.request_id = self.ok(
            "POST",
            "/api/requests",
            self.agent,
            {"service_code": "bulk-pickup", "contact": {"name": "Ana", "phone": MOBILE}},
        )["id"]
        self.appointment_id = self.ok("POST", "/api/appointments", self.agent, self.booking())["id"]
        form = {
            "name": "Calls",
            "sections": [
                {
                    "title": "Opening",
                    "questions": [{"id": "q1", "text": "Greeted", "kind": "yes_no", "weight": 1}],
                }
            ],
        }
        self.form_id = self.ok("POST", "/api/qa/forms", self.supervisor, form)["id"]
        self.recording_sid = stored_recording(
            context, "CA" + "b" * 32, "RE" + "a" * 32, duration_seconds=300.0
        )
        self.privacy_id = self.privacy_request()
        self.services = 0

    def ok(self, method: str, path: str, headers: dict[str, str], body: Any) -> Any:
        response = self.client.request(method, path, json=body, headers=headers)
        assert response.is_success, (path, response.text)
        return response.json() if response.content else None

    def booking(self, **changes: Any) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "starts_at": "2026-11-20T09:00:00-05:00",
            "ends_at": "2026-11-20T11:00:00-05:00",
            "location": "Curb in front of the house",
            "phone": MOBILE,
            "consent": True,
            **changes,
        }

    def privacy_request(self, **requester: str) -> str:
        body = {
            "received_on": "2026-11-18",
            "channel": "mail",
            "kinds": ["access", "correction"],
            "identity_evidence": "Signature compared with the form",
            "requester": {"phone": MOBILE, **requester},
        }
        return str(self.ok("POST", "/api/privacy/requests", self.officer, body)["id"])

    def hold(self) -> str:
        body = {"target_type": "request", "target_ref": self.request_id, "reason": "Claim 7"}
        return str(self.ok("POST", "/api/holds", self.officer, body)["id"])

    def new_service(self, **changes: Any) -> dict[str, Any]:
        self.services += 1
        return {
            "code": f"walk-{self.services}",
            "name": "Walked service",
            "department": "Public Works",
            "group": "Streets",
            **changes,
        }

    def fields(self) -> Iterator[Field]:
        post = self.client.post
        agent, officer, admin = self.agent, self.officer, self.admin
        rid, requests = self.request_id, "/api/requests"

        def request(**body: Any) -> Any:
            return post(requests, json={"service_code": "pothole", **body}, headers=agent)

        yield Field("POST /api/requests description", lambda t: request(description=t))
        yield Field("POST /api/requests address", lambda t: request(address=t))
        yield Field(
            "POST /api/requests description (anonymous)",
            lambda t: request(description=t, anonymous=True),
        )
        for key, fine in (("name", "Ana Lee"), ("email", "ana@example.org"), ("address", "9 Elm")):
            yield Field(
                f"POST /api/requests contact.{key}",
                lambda t, key=key: request(contact={key: t}),
                fine,
            )
            yield Field(
                f"PATCH /api/requests/{{public_id}}/contact {key}",
                lambda t, key=key: self.client.patch(
                    f"{requests}/{rid}/contact", json={key: t}, headers=agent
                ),
                fine,
            )
            yield Field(
                f"POST /api/privacy/requests requester.{key}",
                lambda t, key=key: post(
                    "/api/privacy/requests",
                    json={
                        "received_on": "2026-11-18",
                        "channel": "mail",
                        "kinds": ["access"],
                        "identity_evidence": "Signature compared",
                        "requester": {key: t},
                    },
                    headers=officer,
                ),
                fine,
            )
            yield Field(
                f"POST /api/privacy/requests/{{public_id}}/corrections {key}",
                lambda t, key=key: post(
                    f"/api/privacy/requests/{self.privacy_id}/corrections",
                    json={"request_id": rid, key: t},
                    headers=officer,
                ),
                fine,
            )
            yield Field(
                f"POST /api/holds person.{key}",
                lambda t, key=key: post(
                    "/api/holds",
                    json={"target_type": "person", "person": {key: t}, "reason": "Claim 8"},
                    headers=officer,
                ),
                fine,
            )
        for public in (False, True):
            yield Field(
                f"POST /api/requests/{{public_id}}/status note (public={public})",
                lambda t, public=public: post(
                    f"{requests}/{rid}/status",
                    json={"status": "in_progress", "note": t, "public": public},
                    headers=agent,
                ),
            )
        yield Field(
            "PUT /api/requests/{public_id}/public-description text",
            lambda t: self.client.put(
                f"{requests}/{rid}/public-description", json={"text": t}, headers=agent
            ),
        )
        for key in ("location", "department"):
            yield Field(
                f"POST /api/appointments {key}",
                lambda t, key=key: post(
                    "/api/appointments", json=self.booking(**{key: t}), headers=agent
                ),
            )
        yield Field(
            "POST /api/appointments/preview location",
            lambda t: post(
                "/api/appointments/preview",
                json={
                    key: value
                    for key, value in self.booking(location=t).items()
                    if key in ("request_id", "starts_at", "ends_at", "location")
                },
                headers=agent,
            ),
        )
        yield Field(
            "POST /api/appointments/{appointment_id}/reschedule location",
            lambda t: post(
                f"/api/appointments/{self.appointment_id}/reschedule",
                json={
                    "starts_at": "2026-11-21T09:00:00-05:00",
                    "ends_at": "2026-11-21T11:00:00-05:00",
                    "location": t,
                },
                headers=agent,
            ),
        )
        yield Field(
            "POST /api/recordings/{recording_sid}/evaluations comments[].text",
            lambda t: post(
                f"/api/recordings/{self.recording_sid}/evaluations",
                json={
                    "form_id": self.form_id,
                    "agent": "ana",
                    "answers": {"q1": "yes"},
                    "comments": [{"at_seconds": 3, "text": t}],
                },
                headers=self.supervisor,
            ),
        )
        for where, build in (
            ("name", lambda t: {"name": t}),
            ("sections[].title", lambda t: {"title": t}),
            ("sections[].questions[].text", lambda t: {"text": t}),
        ):
            yield Field(
                f"POST /api/qa/forms {where}",
                lambda t, build=build: post(
                    "/api/qa/forms",
                    json=_form(**build(t)),
                    headers=self.supervisor,
                ),
            )
        yield Field(
            "POST /api/holds reason",
            lambda t: post(
                "/api/holds",
                json={"target_type": "request", "target_ref": rid, "reason": t},
                headers=officer,
            ),
        )
        release_hold = self.hold()
        yield Field(
            "POST /api/holds/{hold_id}/release reason",
            lambda t: post(
                f"/api/holds/{release_hold}/release", json={"reason": t}, headers=officer
            ),
        )
        yield Field(
            "POST /api/privacy/requests identity_evidence",
            lambda t: post(
                "/api/privacy/requests",
                json={
                    "received_on": "2026-11-18",
                    "channel": "mail",
                    "kinds": ["access"],
                    "identity_evidence": t,
                    "requester": {"phone": MOBILE},
                },
                headers=officer,
            ),
        )
        decided = self.privacy_request()
        yield Field(
            "POST /api/privacy/requests/{public_id}/decide reason",
            lambda t: post(
                f"/api/privacy/requests/{decided}/decide",
                json={"decision": "denied", "reason": t},
                headers=officer,
            ),
        )
        for key in ("requested_by", "description", "reference"):
            yield Field(
                f"POST /api/disclosures {key}",
                lambda t, key=key: post(
                    "/api/disclosures",
                    json={
                        "requested_by": "Wilmington Police Department",
                        "legal_basis": "law_enforcement",
                        "reference": "WPD-2026-0412",
                        "description": "Call log entries for one number",
                        "records": [],
                        "approved_by": "olga",
                        key: t,
                    },
                    headers=officer,
                ),
                "WPD-2026-0413" if key == "reference" else "Wilmington Police Department",
            )
        for key in ("name", "description", "department", "group"):
            yield Field(
                f"POST /api/services {key}",
                lambda t, key=key: post(
                    "/api/services", json=self.new_service(**{key: t}), headers=admin
                ),
            )
            yield Field(
                f"PATCH /api/services/{{code}} {key}",
                lambda t, key=key: self.client.patch(
                    "/api/services/pothole", json={key: t}, headers=admin
                ),
            )
        yield Field(
            "POST /api/services keywords[]",
            lambda t: post("/api/services", json=self.new_service(keywords=[t]), headers=admin),
            "pothole",
        )
        yield Field(
            "PATCH /api/services/{code} keywords[]",
            lambda t: self.client.patch(
                "/api/services/pothole", json={"keywords": [t]}, headers=admin
            ),
            "pothole",
        )
        for key in ("name_en", "name_es"):
            yield Field(
                f"PATCH /api/extensions/{{digits}} {key}",
                lambda t, key=key: self.client.patch(
                    "/api/extensions/1", json={key: t}, headers=admin
                ),
                "trash and recycling",
            )
        keys_made = itertools.count(2)
        for key in ("name_en", "name_es"):
            extension = {"name_en": "Parks", "name_es": "Parques", "destination": "+13025550142"}
            yield Field(
                f"POST /api/extensions {key}",
                lambda t, key=key, extension=extension: post(
                    "/api/extensions",
                    json={**extension, "digits": f"7{next(keys_made)}", key: t},
                    headers=admin,
                ),
                "parks and trees",
            )
        for key in ("welcome_en", "welcome_es"):
            yield Field(
                f"PATCH /api/ivr/line {key}",
                lambda t, key=key: self.client.patch("/api/ivr/line", json={key: t}, headers=admin),
                "Welcome to the city line",
            )
        yield from self.second_round_fields()

    def second_round_fields(self) -> Iterator[Field]:
        """Contacts, the knowledge base, updates to callers, email and news alerts."""
        post, agent, rid = self.client.post, self.agent, self.request_id
        staff = StaffFactory(self.context)
        editor = staff.headers("knowledge_editor", "kim")
        communications = staff.headers("communications", "cora")
        contact = self.ok("POST", "/api/contacts", agent, {"channel": "walk_in"})["id"]
        for key, extra in (("notes", {}), ("transferred_to", {})):
            yield Field(
                f"POST /api/contacts/{{contact_id}}/wrap-up {key}",
                lambda t, key=key, extra=extra: post(
                    f"/api/contacts/{contact}/wrap-up",
                    json={"resolution": "referred", "transferred_to": "Police", key: t, **extra},
                    headers=agent,
                ),
            )
        codes = itertools.count()
        article = {"language": "en", "title": "Bulk pickup", "body": "Twice a year."}
        article["department"] = "Public Works"
        for key in ("title", "body", "department"):
            yield Field(
                f"POST /api/kb/articles {key}",
                lambda t, key=key: post(
                    "/api/kb/articles",
                    json={**article, "code": f"kb-{next(codes)}", key: t},
                    headers=editor,
                ),
            )
            yield Field(
                f"PUT /api/kb/articles/{{code}} {key}",
                lambda t, key=key: self.client.put(
                    "/api/kb/articles/walked", json={**article, key: t}, headers=editor
                ),
            )
        self.ok("POST", "/api/kb/articles", editor, {**article, "code": "walked"})
        for method, path in (("POST", "/api/kb/articles"), ("PUT", "/api/kb/articles/{code}")):
            yield Field(
                f"{method} {path} keywords[]",
                lambda t, method=method: self.client.request(
                    method,
                    "/api/kb/articles" if method == "POST" else "/api/kb/articles/walked",
                    json={**article, "keywords": [t]}
                    | ({"code": f"kw-{next(codes)}"} if method == "POST" else {}),
                    headers=editor,
                ),
                "mattress",
            )
        TwilioClient(self.client).text(MOBILE, "Can the crew come after 10?")
        inbound = self.ok("GET", "/api/messages/inbound", agent, None)[0]["id"]
        yield Field(
            "POST /api/messages/inbound/{inbound_id}/reply body",
            lambda t: post(
                f"/api/messages/inbound/{inbound}/reply", json={"body": t}, headers=agent
            ),
            "The crew comes after 10.",
        )
        yield Field(
            "POST /api/requests/{public_id}/updates email",
            lambda t: post(f"/api/requests/{rid}/updates", json={"email": t}, headers=agent),
            "ana@example.org",
        )
        alert = {
            "subject": "Snow plan",
            "body": "Plows run tonight.",
            "subject_es": "Plan de nieve",
            "body_es": "Las quitanieves salen esta noche.",
        }
        for path in ("/api/alerts", "/api/alerts/preview"):
            for key in ("subject", "body", "subject_es", "body_es"):
                yield Field(
                    f"POST {path} {key}",
                    lambda t, path=path, key=key: post(
                        path, json={**alert, key: t}, headers=communications
                    ),
                    "Snow plan for tonight",
                )


def _form(**changes: str) -> dict[str, Any]:
    question = {"id": "q1", "text": changes.get("text", "Greeted"), "kind": "yes_no", "weight": 1}
    section = {"title": changes.get("title", "Opening"), "questions": [question]}
    return {"name": changes.get("name", "Calls"), "sections": [section]}


# Free-text strings of staff request bodies that are not walked above, and why.
NOT_FREE_TEXT = {
    "POST /api/session username": "signing in: looked up, never stored",
    "POST /api/session password": "hashed, never stored or shown",
    "POST /api/staff username": "an account name the staff service restricts to a pattern",
    "POST /api/staff password": "hashed, never stored or shown",
    "PUT /api/staff/{user_id}/password password": "hashed, never stored or shown",
    "POST /api/calls/search phone": "a search term: kept only as a keyed hash in the trail",
    "POST /api/requests/search address": "a search term: kept only as a keyed hash",
    "POST /api/requests/search email": "a search term: kept only as a keyed hash",
    "POST /api/requests/search name": "a search term: kept only as a keyed hash",
    "POST /api/requests/search phone": "a search term: kept only as a keyed hash",
    "POST /api/requests service_code": "must name a service of the catalogue",
    "POST /api/requests contact.phone": "parsed as a phone number and sealed in E.164",
    "PATCH /api/requests/{public_id}/contact phone": "parsed as a phone number",
    "POST /api/privacy/requests requester.phone": "parsed as a phone number",
    "POST /api/privacy/requests/{public_id}/corrections phone": "parsed as a phone number",
    "POST /api/holds person.phone": "parsed as a phone number",
    "POST /api/appointments phone": "parsed as a mobile number",
    "POST /api/holds target_ref": "must name a request, call or recording that exists",
    "POST /api/recordings/{recording_sid}/evaluations agent": "must name a staff account",
    "POST /api/disclosures approved_by": "must name a staff account",
    "PATCH /api/extensions/{digits} destination": "an E.164 number, sip: URI or client name",
    "POST /api/staff destination": "an E.164 number, sip: URI or client name",
    "PATCH /api/staff/{user_id} destination": "an E.164 number, sip: URI or client name",
    "POST /api/contacts/search agent": "a search by account name: never stored",
    "POST /api/contacts/{contact_id}/wrap-up topics[]": "must be knowledge-base codes",
    "POST /api/contacts/{contact_id}/wrap-up request_ids[]": "must name requests that exist",
    "POST /api/kb/articles service_code": "must name a service of the catalogue",
    "PUT /api/kb/articles/{code} service_code": "must name a service of the catalogue",
    "POST /api/requests/{public_id}/updates phone": "parsed as a mobile number",
    "POST /api/email/suppressions email": "kept only as a keyed hash: no more mail to it",
    "POST /api/calls/log/search phone": "a search term: kept only as a keyed hash",
    "POST /api/session new_password": "hashed, never stored or shown",
    "POST /api/extensions destination": "an E.164 number, sip: URI or client name",
    "PATCH /api/ivr/line hours": "parsed as business hours",
    "POST /api/requests/possible-duplicates service_code": "must name a service of the catalogue",
    "POST /api/requests/possible-duplicates address": "a lookup of nearby requests: never stored",
}


def _openapi_free_text(client: TestClient) -> set[str]:
    """Every string of a staff request body with no pattern, choice or format."""
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    found: set[str] = set()

    def walk(schema: dict[str, Any], at: str, into: set[str]) -> None:
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
        for option in schema.get("anyOf", []):
            walk(option, at, into)
        kind = schema.get("type")
        if kind == "object":
            for key, inner in schema.get("properties", {}).items():
                walk(inner, f"{at}.{key}" if at else key, into)
            extra = schema.get("additionalProperties")
            if isinstance(extra, dict):
                for key in schema.get("propertyNames", {}).get("enum", ["*"]):
                    walk(extra, f"{at}.{key}", into)
        elif kind == "array":
            walk(schema.get("items", {}), f"{at}[]", into)
        elif kind == "string" and not {"pattern", "enum", "format", "const"} & set(schema):
            into.add(at)

    for path, operations in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            for body in content.values():
                strings: set[str] = set()
                walk(body["schema"], "", strings)
                found |= {f"{method.upper()} {path} {name}" for name in strings}
    return found


def _walked(name: str) -> str:
    return re.sub(r" \(.*\)$", "", name)


@pytest.fixture
def client(sqlite_context: AppContext) -> Iterator[TestClient]:
    with served(sqlite_context) as test_client:
        yield test_client


def test_every_staff_free_text_field_is_walked(
    client: TestClient, sqlite_context: AppContext
) -> None:
    walked = {_walked(field.name) for field in World(client, sqlite_context).fields()}
    documented = _openapi_free_text(client)
    assert documented - walked - set(NOT_FREE_TEXT) == set(), "add these to the walk"
    assert set(NOT_FREE_TEXT) <= documented, "listed as not free text, but no longer documented"


def test_no_ssn_reaches_the_database_whatever_the_field_or_spelling(
    client: TestClient, sqlite_context: AppContext, tmp_path: Path, sqlite_url: str
) -> None:
    world = World(client, sqlite_context)
    fields = list(world.fields())
    for field in fields:
        for spelling in SPELLINGS:
            for text in field.texts(spelling):
                response = field.send(text)
                assert response.status_code == 422, (field.name, repr(text), response.text)
                assert not leaked(response.text), field.name
                messages = {error["message"] for error in response.json().get("errors", [])}
                assert messages == {ssn.MESSAGE}, (field.name, response.text)
        accepted = field.send(field.fine)
        assert accepted.is_success, (field.name, accepted.text)

    # Text from the public is kept, with the number redacted.
    key = _open311_key(sqlite_context)
    twilio = TwilioClient(client)
    for spelling in SPELLINGS:
        filed = client.post(
            "/open311/v2/requests.json",
            data={
                "api_key": key,
                "service_code": "pothole",
                "address_string": "Oak St",
                "description": f"Hole here, my SSN {spelling} ok",
                "first_name": "Ana",
            },
        )
        assert filed.status_code == 201, filed.text
        texted = twilio.text("+13025550123", f"about my request, ssn {spelling}")
        assert texted.status_code == 200, texted.text
        assert not leaked(filed.text + texted.text)
    # Read while the app still holds the database open: the write-ahead log as it is.
    database = Path(sqlite_url.removeprefix("sqlite:///"))
    written = [database, database.with_name(database.name + "-wal")]
    written += [path for path in tmp_path.rglob("*") if path.is_file()]
    assert written[0].stat().st_size > 0
    for path in dict.fromkeys(written):
        if path.exists():
            assert not leaked(path.read_bytes()), path


def _open311_key(context: AppContext) -> str:
    with context.db.begin() as session:
        key, _ = keys.issue_key(session, name="FixMyStreet", now=context.clock.now())
    return key
