"""What the recordings service needs from Twilio, as a protocol ``telephony`` fulfils."""

from __future__ import annotations

from typing import Protocol


class MediaUnavailable(Exception):
    """The media could not be fetched now (timeout, 5xx, 404 just after the callback,
    a cut-short body); worth trying again later. The message names no personal data."""


class RecordingSource(Protocol):
    def download(self, media_url: str) -> bytes:
        """The recording as Twilio's WAV; raises MediaUnavailable."""
        ...

    def delete(self, recording_sid: str) -> None:
        """Delete Twilio's copy (a copy already gone counts as deleted)."""
        ...

    def set_paused(self, call_sid: str, paused: bool) -> None:
        """Pause or resume the call's current recording; raises MediaUnavailable."""
        ...
