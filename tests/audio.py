"""Speech-like test audio: voiced bursts (a pitched tone with harmonics, shaped into
syllables) separated by pauses, different on each channel, as a Twilio dual-channel WAV."""

from __future__ import annotations

import array
import audioop
import io
import math
import random
import wave
from collections.abc import Sequence

RATE = 8000
FRAME_MS = 20


def _voice(rate: int, pitch: float, seconds: float) -> array.array[int]:
    period = [
        sum(
            math.sin(2 * math.pi * harmonic * pitch * i / rate) / harmonic
            for harmonic in (1, 2, 3, 5)
        )
        for i in range(int(rate / pitch) * 4)
    ]
    tile = array.array("h", (int(6000 * sample) for sample in period))
    needed = int(rate * seconds) + len(tile)
    return (tile * (needed // len(tile) + 1))[:needed]


def speech(
    seconds: float,
    bursts: Sequence[tuple[float, float]],
    *,
    pitch: float,
    rate: int = RATE,
    seed: int = 1,
) -> bytes:
    """Mono 16-bit PCM: speech during each (start, end) burst, room hiss elsewhere."""
    noise = random.Random(seed)
    voice = _voice(rate, pitch, seconds).tobytes()
    frame = int(rate * FRAME_MS / 1000)
    out = bytearray()
    for index in range(int(seconds * 1000 / FRAME_MS)):
        at = index * FRAME_MS / 1000
        chunk = voice[index * frame * 2 : (index + 1) * frame * 2]
        if any(start <= at < end for start, end in bursts):
            syllable = 0.55 + 0.45 * abs(math.sin(2 * math.pi * 3.5 * at))
            out += audioop.mul(chunk, 2, syllable)
        else:
            out += array.array("h", (noise.randint(-6, 6) for _ in range(frame))).tobytes()
    return bytes(out)


def dual_channel_wav(caller: bytes, agent: bytes, rate: int = RATE) -> bytes:
    """A WAV like Twilio's dual-channel recordings: caller left, agent right."""
    length = min(len(caller), len(agent))
    stereo = audioop.add(
        audioop.tostereo(caller[:length], 2, 1, 0), audioop.tostereo(agent[:length], 2, 0, 1), 2
    )
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(2)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(stereo)
    return buffer.getvalue()


def call_recording(seconds: float = 12.0) -> bytes:
    """A short call: 1 s of silence, alternating turns, 1 s of silence at the end."""
    caller = speech(seconds, [(1.0, 3.0), (6.0, 7.0)], pitch=210, seed=1)
    agent = speech(seconds, [(3.4, 5.6), (7.5, seconds - 1.0)], pitch=120, seed=2)
    return dual_channel_wav(caller, agent)
