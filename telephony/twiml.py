"""TwiML for the 311 call flow, built with the SDK's VoiceResponse.

Every action and callback URL is absolute, from PUBLIC_URL, so it also holds behind a
proxy that serves the app under a path prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlencode

from twilio.twiml.voice_response import Dial, Gather, VoiceResponse

from services.directory.service import MenuEntry
from services.platform.xml_text import xml_text
from telephony.prompts import SPANISH_CHOICE, prompts_for

CHILD_LEG_EVENTS = "initiated ringing answered completed"
RECORDING_EVENTS = "completed absent"
GATHER_TIMEOUT_SECONDS = 6


def _url(base: str, path: str, **query: str | int) -> str:
    return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")


def _say(target: VoiceResponse | Gather, text: str, language: str) -> None:
    prompts = prompts_for(language)
    # Menu names are typed by staff; a control character in one would break the TwiML.
    target.say(xml_text(text), voice=prompts.voice, language=prompts.language)


def menu(
    entries: Sequence[MenuEntry],
    *,
    base_url: str,
    language: str,
    city: str,
    attempt: int,
    greet: bool,
    apology: bool = False,
    welcome: str | None = None,
) -> str:
    """Greeting (``welcome`` as administrators set it, else the standard one), recording
    notice and department menu, gathering one choice."""
    prompts = prompts_for(language)
    response = VoiceResponse()
    digits = max((len(entry.digits) for entry in entries), default=1)
    gather = response.gather(
        input="dtmf",
        num_digits=digits,
        timeout=GATHER_TIMEOUT_SECONDS,
        action=_url(base_url, "/twilio/voice/gather", lang=language, attempt=attempt),
        method="POST",
        action_on_empty_result=True,
    )
    if apology:
        _say(gather, prompts.not_an_option, language)
    if greet:
        _say(gather, welcome or prompts.welcome.format(city=city), language)
        # Said before anything is recorded: recording starts only when a call taker answers.
        _say(gather, prompts.recording_notice, language)
        if language == "en":
            _say(gather, SPANISH_CHOICE, "es")
    options = " ".join(
        prompts.option.format(name=entry.name(language), digits=" ".join(entry.digits))
        for entry in entries
    )
    _say(gather, options, language)
    return str(response)


def dial(entry: MenuEntry, *, base_url: str, language: str, timeout: int) -> str:
    """Connect the caller to the department, recording both channels when it records calls."""
    prompts = prompts_for(language)
    response = VoiceResponse()
    _say(response, prompts.connecting.format(name=entry.name(language)), language)
    recording: dict[str, str] = (
        {
            "record": "record-from-answer-dual",
            "recording_status_callback": _url(base_url, "/twilio/recordings"),
            "recording_status_callback_event": RECORDING_EVENTS,
            "recording_status_callback_method": "POST",
        }
        if entry.record_calls
        else {"record": "do-not-record"}
    )
    connect = Dial(
        action=_url(base_url, "/twilio/voice/dial-complete", lang=language, ext=entry.digits),
        method="POST",
        timeout=timeout,
        answer_on_bridge=True,
        **recording,
    )
    leg = {
        "status_callback": _url(base_url, "/twilio/voice/status"),
        "status_callback_event": CHILD_LEG_EVENTS,
        "status_callback_method": "POST",
    }
    destination = entry.destination
    if destination.startswith("client:"):
        connect.client(destination.removeprefix("client:"), **leg)
    elif destination.startswith("sip:"):
        connect.sip(destination, **leg)
    else:
        connect.number(destination, **leg)
    response.append(connect)
    return str(response)


def _append_voicemail(
    response: VoiceResponse, *, base_url: str, language: str, after_hours: bool, max_seconds: int
) -> None:
    prompts = prompts_for(language)
    _say(response, prompts.after_hours if after_hours else prompts.nobody_available, language)
    _say(response, prompts.leave_message, language)
    response.record(
        max_length=max_seconds,
        play_beep=True,
        finish_on_key="#",
        trim="trim-silence",
        action=_url(base_url, "/twilio/voice/voicemail-complete", lang=language),
        method="POST",
        recording_status_callback=_url(base_url, "/twilio/recordings", kind="voicemail"),
        recording_status_callback_event=RECORDING_EVENTS,
        recording_status_callback_method="POST",
    )
    _say(response, prompts.no_message, language)
    response.hangup()


def voicemail(*, base_url: str, language: str, max_seconds: int) -> str:
    """Nobody answered: say so and take a message (itself recorded, as announced)."""
    response = VoiceResponse()
    _append_voicemail(
        response, base_url=base_url, language=language, after_hours=False, max_seconds=max_seconds
    )
    return str(response)


def after_hours(
    *, base_url: str, language: str, city: str, max_seconds: int, welcome: str | None = None
) -> str:
    """Outside business hours: greeting and recording notice, then voicemail."""
    prompts = prompts_for(language)
    response = VoiceResponse()
    _say(response, welcome or prompts.welcome.format(city=city), language)
    _say(response, prompts.recording_notice, language)
    _append_voicemail(
        response, base_url=base_url, language=language, after_hours=True, max_seconds=max_seconds
    )
    return str(response)


def goodbye(language: str) -> str:
    response = VoiceResponse()
    _say(response, prompts_for(language).thanks_goodbye, language)
    response.hangup()
    return str(response)


def hangup() -> str:
    response = VoiceResponse()
    response.hangup()
    return str(response)
