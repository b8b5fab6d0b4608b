"""The call taker's workspace: one page per call (``/console/workspace?call=CA...``).

The caller (their number as people write it, or "Number withheld", and what the city
already has from that number), the knowledge base with the answer shown in place, the
request form and the wrap-up sit side by side. The page listens to the screen pop's
event stream and opens the next ringing call in place, without a page load; the call
is in the address (a call SID is no personal data) so a reload or a link returns to it.
The page's script reads and writes through the staff API, as every console page does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from services.console import navigation
from services.console.pages import page_guard, render
from services.contacts import service as contacts
from services.platform.auth import Staff
from services.platform.context import ContextDep

router = APIRouter(include_in_schema=False)

# The contact log's outcomes, as the wrap-up's select shows them.
RESOLUTIONS = tuple((code, code.replace("_", " ").capitalize()) for code in contacts.RESOLUTIONS)
# The ways someone reaches the city other than a call, as the workspace offers them,
# the commonest first (a phone contact is opened by the call itself).
CHANNEL_WORDS = {"walk_in": "In person (walk-in)", "email": "Email", "sms": "Text message"}
CHANNELS = tuple(
    (code, CHANNEL_WORDS.get(code, code.replace("_", " ").capitalize()))
    for code in sorted(contacts.CHANNELS, key=[*CHANNEL_WORDS, *contacts.CHANNELS].index)
    if code != "phone"
)


@router.get(navigation.WORKSPACE.path, response_class=HTMLResponse)
def workspace_page(
    request: Request,
    staff: Annotated[Staff, Depends(page_guard(navigation.WORKSPACE))],
    context: ContextDep,
) -> HTMLResponse:
    """The workspace; the call it shows is named by ``?call=`` (a contact logged by hand,
    by ``?contact=``) and read by its script."""
    return render(
        request,
        context,
        "workspace.html",
        staff=staff,
        title=navigation.WORKSPACE.title,
        scripts=("workspace.js",),
        resolutions=RESOLUTIONS,
        channels=CHANNELS,
    )
