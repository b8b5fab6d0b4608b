"""The call taker's workspace: one page per call (``/console/workspace?call=CA...``).

The caller (their number as people write it, or "Number withheld", and what the city
already has from that number), the knowledge base with the answer shown in place, the
request form and the wrap-up sit side by side. The page listens to the screen pop's
event stream and opens the next ringing call in place, without a page load; the call
is in the address (a call SID is no personal data) so a reload or a link returns to it.
Without a call, someone at the counter, an email or a text is started as a contact of
its own (``?contact=CT-...``) and handled the same way. The page's script reads and
writes through the staff API, as every console page does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.console import navigation
from services.console.pages import simple_page
from services.contacts import service as contacts
from services.platform.auth import Staff
from services.platform.context import AppContext

router = APIRouter(include_in_schema=False)

# The ways someone reaches the city other than a call, as the workspace offers them,
# the commonest first (a phone contact is opened by the call itself).
CHANNEL_WORDS = {"walk_in": "In person (walk-in)", "email": "Email", "sms": "Text message"}
CHANNELS = tuple(
    (code, CHANNEL_WORDS.get(code, code.replace("_", " ").capitalize()))
    for code in sorted(contacts.CHANNELS, key=[*CHANNEL_WORDS, *contacts.CHANNELS].index)
    if code != "phone"
)


def _choices(_context: AppContext, _staff: Staff) -> dict[str, Any]:
    return {"channels": CHANNELS}


# The call it shows is named by ``?call=`` (a contact logged by hand, by ``?contact=``)
# and read by its script.
simple_page(navigation.WORKSPACE, "workspace.html", "workspace.js", values=_choices, on=router)
