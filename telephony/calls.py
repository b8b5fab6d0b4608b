"""Outbound calls through Twilio's REST API: the console's callbacks.

Twilio rings the agent first (the REST call's ``To``); the TwiML it runs when the agent
answers dials the caller with the city's number as caller ID. The caller's number is in
the request body's TwiML, never in a URL.
"""

from __future__ import annotations

from twilio.base.exceptions import TwilioRestException
from twilio.twiml.voice_response import Dial, VoiceResponse

from services.contacts.callbacks import CallbackFailed, PlacedCall
from telephony.rest import TwilioAccount
from telephony.twiml import CHILD_LEG_EVENTS

RING_AGENT_SECONDS = 30


def bridge_twiml(*, caller: str, caller_id: str, status_callback: str) -> str:
    """What runs once the agent answers: dial the caller, showing the city's number."""
    response = VoiceResponse()
    dial = Dial(caller_id=caller_id, answer_on_bridge=True)
    dial.number(
        caller,
        status_callback=status_callback,
        status_callback_event=CHILD_LEG_EVENTS,
        status_callback_method="POST",
    )
    response.append(dial)
    return str(response)


class TwilioCallbackDialer:
    """Callbacks through the Twilio SDK's ``calls.create`` (``TWILIO_API_BASE_URL``)."""

    def __init__(self, account: TwilioAccount) -> None:
        self._client = account.client

    def place(
        self, *, agent_destination: str, caller: str, caller_id: str, status_callback: str
    ) -> PlacedCall:
        try:
            call = self._client.calls.create(
                to=agent_destination,
                from_=caller_id,
                twiml=bridge_twiml(
                    caller=caller, caller_id=caller_id, status_callback=status_callback
                ),
                timeout=RING_AGENT_SECONDS,
                status_callback=status_callback,
                status_callback_event=CHILD_LEG_EVENTS.split(),
                status_callback_method="POST",
            )
        except TwilioRestException as exc:
            raise CallbackFailed(f"Twilio refused the call ({exc.code or exc.status})") from exc
        except Exception as exc:
            raise CallbackFailed(f"no answer from Twilio ({type(exc).__name__})") from exc
        return PlacedCall(call_sid=str(call.sid), status=str(call.status or "queued"))
