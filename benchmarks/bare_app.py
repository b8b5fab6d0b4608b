"""The baseline: a bare FastAPI endpoint that parses the same form and does nothing else."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import FastAPI, Request, Response

app = FastAPI()


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/twilio/voice/status", status_code=204)
async def status(request: Request) -> Response:
    parse_qsl((await request.body()).decode("utf-8"), keep_blank_values=True)
    return Response(status_code=204)
