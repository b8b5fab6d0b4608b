"""Small HTML pages for the public (no sign-in): a title, a sentence, maybe one button."""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse


def page(
    title: str,
    text: str,
    *,
    form_action: str | None = None,
    button: str = "",
    fields: dict[str, str] | None = None,
    inputs: dict[str, str] | None = None,
    status: int = 200,
) -> HTMLResponse:
    """A page with ``title`` and ``text``; with ``form_action``, a form that POSTs there
    with ``fields`` hidden, ``inputs`` to fill in (name: default) and one button."""
    form = ""
    if form_action is not None:
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in (fields or {}).items()
        )
        visible = "".join(
            f'<p><label>{html.escape(name)} <input name="{html.escape(name)}" '
            f'value="{html.escape(value if value != name else "")}" required></label></p>'
            for name, value in (inputs or {}).items()
        )
        form = (
            f'<form method="post" action="{html.escape(form_action)}">{hidden}{visible}'
            f'<button type="submit">{html.escape(button)}</button></form>'
        )
    body = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title></head><body>"
        f"<h1>{html.escape(title)}</h1><p>{html.escape(text)}</p>{form}</body></html>"
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
