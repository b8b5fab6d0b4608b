"""News alerts in a real browser, on SQLite and PostgreSQL: a communications officer
writes an alert in English and Spanish, previews it, sends it, and follows its counts;
the subscribers, who signed up and confirmed through the public pages, get it in their
language with a one-click unsubscribe link, and a sign-up never confirmed gets nothing.

The server sends mail through SMTP to a real server run by this module (aiosmtpd), so the
messages checked are those a mail server receives, headers and all. (With the console
gateway, what staff read of them is tested in test_email_browser.py.)
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import httpx
import pytest

from tests.e2e.browser import Console, assert_both_widths, screenshot, sign_in
from tests.fakes.smtp_server import MailSink, smtp_server

sync_api = pytest.importorskip("playwright.sync_api")
expect = sync_api.expect

# The machine under test is shared: give a server answer longer than the default 5 s.
expect.set_options(timeout=15_000)

# The harness has no communications account; this module adds one (no approval needed:
# the role reads no personal data).
COMMUNICATIONS = ("cole", "communications")


@pytest.fixture(scope="module")
def mail() -> Iterator[tuple[MailSink, str]]:
    """The SMTP server the console sends through, and its smtp:// URL."""
    with smtp_server() as running:
        yield running


@pytest.fixture(scope="module")
def console_settings(mail: tuple[MailSink, str]) -> dict[str, str]:
    return {"email_gateway": "smtp", "smtp_url": mail[1]}


@pytest.fixture(scope="module")
def cole(console: Console) -> str:
    """The communications officer's name, their account added once per server."""
    return console.add_account(*COMMUNICATIONS)


def _received(sink: MailSink, address: str, count: int = 1) -> list[EmailMessage]:
    """The messages to ``address``, once there are ``count`` of them (waits up to 30 s)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = sink.to(address)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    pytest.fail(f"{count} message(s) to {address} did not arrive; got {len(sink.to(address))}")


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None
    return str(part.get_content())


def _signs_up(console: Console, address: str, language: str) -> None:
    """A person signs up on the public form (the confirmation email is on its way)."""
    answered = httpx.post(
        f"{console.url}/public/alerts/sign-up",
        data={"email": address, "language": language},
        timeout=10,
    )
    assert answered.status_code == 200, answered.text
    assert "Check your email" in answered.text


def _confirms(console: Console, sink: MailSink, address: str) -> None:
    """The person follows the link in their confirmation email and presses the button."""
    [confirmation] = _received(sink, address)
    link = re.search(r"http://\S+/public/alerts/confirm/\S+", _text(confirmation))
    assert link is not None, _text(confirmation)
    shown = httpx.get(link.group(0), timeout=10)
    assert shown.status_code == 200 and "Confirm / Confirmar" in shown.text
    confirmed = httpx.post(link.group(0), timeout=10)
    assert confirmed.status_code == 200 and "Subscribed / Suscrito" in confirmed.text


def _write(page: Any, subject: str, text: str, subject_es: str = "", text_es: str = "") -> None:
    page.get_by_label("Subject", exact=True).fill(subject)
    page.get_by_label("Text", exact=True).fill(text)
    page.get_by_label("Subject in Spanish").fill(subject_es)
    page.get_by_label("Text in Spanish").fill(text_es)


def test_an_alert_is_previewed_in_both_languages_sent_and_reaches_each_subscriber_in_theirs(
    page: Any, console: Console, cole: str, mail: tuple[MailSink, str]
) -> None:
    sink = mail[0]
    rosa = f"rosa.{console.backend}@example.org"  # the sink serves both servers
    tom = f"tom.{console.backend}@example.org"
    una = f"una.{console.backend}@example.org"
    _signs_up(console, rosa, "es")
    _signs_up(console, tom, "en")
    _signs_up(console, una, "en")  # never confirms
    _confirms(console, sink, rosa)
    _confirms(console, sink, tom)
    _received(sink, una)

    sign_in(page, cole, "/console/alerts")
    expect(page.locator("#alerts-status")).to_have_text("No alerts yet.")
    expect(page.locator("#preview")).to_be_hidden()
    _write(
        page,
        "Snow emergency tonight",
        "Move your car off snow routes by 8 pm.\n\nCollection is a day late all week.",
        "Emergencia de nieve esta noche",
        "Retire su auto de las rutas de nieve antes de las 8 pm.",
    )
    page.get_by_role("button", name="Preview").click()
    preview = page.locator("#preview")
    expect(preview).to_be_visible()
    expect(page.locator("#preview-recipients")).to_have_text(
        "It would go to 2 confirmed subscribers."
    )
    english, spanish = page.locator("#preview-en"), page.locator("#preview-es")
    expect(english).to_contain_text("Snow emergency tonight")
    expect(english).to_contain_text("Collection is a day late all week.")
    expect(english).to_contain_text("Unsubscribe")
    expect(spanish).to_contain_text("Emergencia de nieve esta noche")
    expect(spanish).to_contain_text("antes de las 8 pm.")
    expect(spanish).to_contain_text("se suscribió a las noticias")
    send = page.get_by_role("button", name="Send to every subscriber")
    expect(send).to_be_enabled()
    screenshot(page, "alerts_preview_1280")
    assert_both_widths(page, "news alerts with a preview", "alerts_preview_768")

    # An edit after the preview: only what was previewed is sent, so it needs a new one.
    page.get_by_label("Text", exact=True).fill(
        "Move your car off snow routes by 9 pm.\n\nCollection is a day late all week."
    )
    expect(send).to_be_disabled()
    page.get_by_role("button", name="Preview").click()
    expect(english).to_contain_text("by 9 pm.")
    expect(send).to_be_enabled()

    send.click()
    status = page.locator("#send-status")
    expect(status).to_have_text(
        re.compile(r"^Alert AL-\w{5}-\w{5} is being sent to 2 subscribers\.$")
    )
    alert_id = re.search(r"AL-\w{5}-\w{5}", status.inner_text())
    assert alert_id is not None
    expect(send).to_be_disabled()  # sent once: a second click would send it again
    expect(page.get_by_label("Subject", exact=True)).to_have_value("")  # written anew to send again
    row = page.locator("#alerts tbody tr", has_text=alert_id.group(0))
    expect(row).to_contain_text("Snow emergency tonight")
    screenshot(page, "alerts_sent_1280")
    assert_both_widths(page, "news alerts after sending", "alerts_sent_768")

    # Each confirmed subscriber gets it in their language, with a one-click unsubscribe.
    [_, to_rosa] = _received(sink, rosa, 2)
    [_, to_tom] = _received(sink, tom, 2)
    assert to_rosa["Subject"] == "Emergencia de nieve esta noche"
    assert "antes de las 8 pm." in _text(to_rosa)
    assert to_tom["Subject"] == "Snow emergency tonight"
    assert "by 9 pm." in _text(to_tom) and "by 8 pm." not in _text(to_tom)
    for message in (to_rosa, to_tom):
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        unsubscribe = str(message["List-Unsubscribe"]).strip().strip("<>")
        assert unsubscribe.startswith(f"{console.url}/public/alerts/unsubscribe/")
        assert unsubscribe in _text(message)
    assert len(sink.to(una)) == 1  # the confirmation only

    # The counts, once the sending is done.
    page.get_by_role("button", name="Refresh").click()
    deadline = time.monotonic() + 30
    while "sent" not in row.locator("td").nth(3).inner_text() and time.monotonic() < deadline:
        page.wait_for_timeout(300)
        page.get_by_role("button", name="Refresh").click()
    cells = [cell.strip() for cell in row.locator("td").all_inner_texts()]
    assert cells[3:] == ["sent", "2", "2", "0", "0", "not counted"], cells

    # Tom unsubscribes with one click (as his mail program does): the next alert would
    # go to Rosa alone.
    gone = httpx.post(
        str(to_tom["List-Unsubscribe"]).strip().strip("<>"),
        data={"List-Unsubscribe": "One-Click"},
        timeout=10,
    )
    assert gone.status_code == 200, gone.text
    _write(page, "Snow emergency over", "Snow routes are open again.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-recipients")).to_have_text(
        "It would go to 1 confirmed subscriber."
    )


def test_a_refused_alert_is_shown_by_the_field_and_cannot_be_sent(
    page: Any, console: Console, cole: str
) -> None:
    sign_in(page, cole, "/console/alerts")
    send = page.get_by_role("button", name="Send to every subscriber")

    # Nothing written: both required fields say so.
    page.get_by_role("button", name="Preview").click()
    expect(page.locator('[data-error-for="subject"]')).not_to_be_empty()
    expect(page.locator('[data-error-for="body"]')).not_to_be_empty()
    expect(page.get_by_label("Subject", exact=True)).to_be_focused()
    expect(page.locator("#preview")).to_be_hidden()

    # A link in the text: alerts carry none but their unsubscribe link.
    _write(page, "Library hours", "See www.example.org for the new hours.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator('[data-error-for="body"]')).to_contain_text("may not carry links")
    expect(page.locator('[data-error-for="subject"]')).to_be_empty()
    expect(page.get_by_label("Text", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#preview")).to_be_hidden()
    screenshot(page, "alerts_refused_1280")
    assert_both_widths(page, "news alerts with a refusal", "alerts_refused_768")

    # A Spanish subject without its text.
    _write(page, "Library hours", "The library opens at 10 on Mondays.", "Horario de la biblioteca")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator('[data-error-for="body_es"]')).to_contain_text("together")
    expect(page.locator('[data-error-for="body"]')).to_be_empty()
    expect(page.locator("#preview")).to_be_hidden()

    # Put right, it previews; made wrong again, the earlier preview cannot be sent.
    page.get_by_label("Text in Spanish").fill("La biblioteca abre a las 10 los lunes.")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator('[data-error-for="body_es"]')).to_be_empty()
    expect(send).to_be_enabled()
    page.get_by_label("Text", exact=True).fill("Hours at https://example.org/library")
    page.get_by_role("button", name="Preview").click()
    expect(page.locator('[data-error-for="body"]')).to_contain_text("may not carry links")
    expect(send).to_be_disabled()
    expect(page.locator("#alerts")).not_to_contain_text("Library hours")


def test_an_edit_made_while_the_preview_is_on_its_way_needs_a_new_preview(
    page: Any, cole: str
) -> None:
    sign_in(page, cole, "/console/alerts")
    held: list[Any] = []

    def hold(route: Any) -> None:
        """The preview's answer waits until the test lets it through (Playwright needs a
        function of its own: a bound method is refused)."""
        held.append(route)

    page.route("**/api/alerts/preview", hold)
    _write(page, "Water main repair", "Elm St is closed from 9 am to noon.")
    page.get_by_role("button", name="Preview").click()
    while not held:
        page.wait_for_timeout(50)
    page.get_by_label("Text", exact=True).fill("Elm St is closed from 9 am to 5 pm.")
    held[0].continue_()
    page.unroute("**/api/alerts/preview")

    # The preview shows what was asked for; the edit made since has not been previewed.
    expect(page.locator("#preview-en")).to_contain_text("from 9 am to noon.")
    expect(page.get_by_role("button", name="Send to every subscriber")).to_be_disabled()
    page.get_by_role("button", name="Preview").click()
    expect(page.locator("#preview-en")).to_contain_text("from 9 am to 5 pm.")
    expect(page.get_by_role("button", name="Send to every subscriber")).to_be_enabled()


def test_what_is_written_outlives_a_reload_until_it_is_sent(page: Any, cole: str) -> None:
    sign_in(page, cole, "/console/alerts")
    _write(page, "Leaf collection starts", "Bag your leaves by the curb on Mondays.")
    page.get_by_role("button", name="Preview").click()
    send = page.get_by_role("button", name="Send to every subscriber")
    expect(send).to_be_enabled()

    # Previewed, not sent: a reload keeps it, and it must be previewed again.
    page.reload()
    expect(page.locator(".draft-notice")).to_contain_text("Restored what you typed earlier")
    expect(page.get_by_label("Subject", exact=True)).to_have_value("Leaf collection starts")
    expect(page.locator("#preview")).to_be_hidden()
    page.get_by_role("button", name="Preview").click()
    expect(page.locator(".draft-notice")).to_have_count(0)
    send.click()
    expect(page.locator("#send-status")).to_contain_text("is being sent to")

    # Sent: a reload does not bring it back as a draft to send again.
    page.reload()
    expect(page.locator("#alerts")).to_contain_text("Leaf collection starts")
    expect(page.get_by_label("Subject", exact=True)).to_have_value("")
    expect(page.locator(".draft-notice")).to_have_count(0)

    # Written again word for word within the hour: the preview shows it, sending refuses it.
    _write(page, "Leaf collection starts", "Bag your leaves by the curb on Mondays.")
    page.get_by_role("button", name="Preview").click()
    send.click()
    expect(page.locator("#send-status")).to_contain_text("less than an hour ago")
    expect(page.locator("#alerts tbody tr", has_text="Leaf collection starts")).to_have_count(1)
