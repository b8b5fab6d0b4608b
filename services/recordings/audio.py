"""Audio: checking Twilio's WAV, then trimming, levelling, measuring and encoding it.

The browser copy is Opus in an Ogg container at 24 kbit/s (the "voip" profile): Opus is
the codec made for speech at low rates, every current desktop browser plays Ogg Opus,
seeking works on byte ranges, and 24 kbit/s against Twilio's 256 kbit/s (8 kHz, 16-bit,
two channels) is more than ten times smaller before silence is trimmed. Encoding goes
through ffmpeg on pipes, so no unencrypted audio is written to disk.
"""

from __future__ import annotations

import functools
import io
import math
import subprocess
import warnings
import wave
from dataclasses import dataclass

with warnings.catch_warnings():
    # pydub looks for ffmpeg on PATH at import; this project hands it one explicitly.
    # audioop warns of its removal in Python 3.13, where audioop-lts takes its place.
    warnings.simplefilter("ignore", RuntimeWarning)
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

    from pydub import AudioSegment

CONTENT_TYPE = "audio/ogg; codecs=opus"
BITRATE = "24k"
FRAME_MS = 20
SILENCE_DBFS = -42.0
TARGET_DBFS = -20.0
PEAK_CEILING_DBFS = -1.0
ACTIVITY_SLICES = 200
DURATION_TOLERANCE_SECONDS = 1.5
CHANNEL_NAMES = ("caller", "agent")


class InvalidRecording(Exception):
    """The media is not a usable recording; fetching it again will not help."""


class TruncatedRecording(Exception):
    """The media ends early (a cut download); fetching it again may help."""


@functools.cache
def ffmpeg_executable(configured: str | None = None) -> str:
    """The ffmpeg to use: the setting, else the static build the imageio-ffmpeg wheel ships."""
    if configured:
        return configured
    import imageio_ffmpeg  # noqa: PLC0415 - resolved once, on first use

    path: str = imageio_ffmpeg.get_ffmpeg_exe()
    return path


@functools.cache
def ffmpeg_problem(configured: str | None = None) -> str | None:
    """Why ffmpeg cannot be used, or None when it runs and encodes Opus."""
    try:
        executable = ffmpeg_executable(configured)
        result = subprocess.run(  # noqa: S603 - a fixed command line
            [executable, "-hide_banner", "-encoders"], capture_output=True, timeout=20, check=False
        )
    except (OSError, RuntimeError, subprocess.TimeoutExpired) as exc:
        return f"ffmpeg cannot be run ({type(exc).__name__})"
    if result.returncode != 0:
        return "ffmpeg exits with an error"
    if b"libopus" not in result.stdout:
        return "this ffmpeg cannot encode Opus"
    return None


def read_wav(
    data: bytes, *, expected_seconds: int | None, expected_channels: int | None
) -> AudioSegment:
    """A whole WAV of the expected length and channels, as a pydub segment."""
    try:
        with wave.open(io.BytesIO(data)) as reader:
            channels, width, rate, frames = (
                reader.getnchannels(),
                reader.getsampwidth(),
                reader.getframerate(),
                reader.getnframes(),
            )
            raw = reader.readframes(frames)
    except (wave.Error, EOFError) as exc:
        raise InvalidRecording("not a WAV file") from exc
    if width != 2 or rate <= 0:
        raise InvalidRecording("not 16-bit PCM")
    if len(raw) < frames * width * channels:
        raise TruncatedRecording("the WAV ends before its header says")
    if expected_channels and channels != expected_channels:
        raise InvalidRecording(f"expected {expected_channels} channels, found {channels}")
    seconds = frames / rate
    if expected_seconds is not None and seconds + DURATION_TOLERANCE_SECONDS < expected_seconds:
        raise TruncatedRecording("the WAV is shorter than the recording Twilio reported")
    if expected_seconds is not None and seconds > expected_seconds + DURATION_TOLERANCE_SECONDS:
        raise InvalidRecording("the WAV is longer than the recording Twilio reported")
    return AudioSegment(data=raw, sample_width=width, frame_rate=rate, channels=channels)


@dataclass(frozen=True)
class ChannelStats:
    name: str
    talk_seconds: float
    silence_seconds: float
    activity: list[int]


@dataclass(frozen=True)
class ProcessedAudio:
    data: bytes
    content_type: str
    duration_seconds: float
    channels: list[ChannelStats]


def _frame_levels(channel: AudioSegment) -> list[float]:
    """dBFS of each 20 ms frame (minus infinity for digital silence)."""
    width = channel.sample_width
    step = int(channel.frame_rate * FRAME_MS / 1000) * width
    raw = channel.raw_data
    full_scale = float(1 << (8 * width - 1))
    levels = []
    for start in range(0, len(raw) - step + 1, step):
        rms = audioop.rms(raw[start : start + step], width)
        levels.append(20 * math.log10(rms / full_scale) if rms else -math.inf)
    return levels


def _level(channel: AudioSegment, levels: list[float]) -> AudioSegment:
    """Bring speech to TARGET_DBFS, never pushing peaks past the ceiling."""
    speech = [10 ** (level / 10) for level in levels if level > SILENCE_DBFS]
    if not speech or channel.max == 0:
        return channel
    loudness = 10 * math.log10(sum(speech) / len(speech))
    gain = min(TARGET_DBFS - loudness, PEAK_CEILING_DBFS - channel.max_dBFS)
    return channel.apply_gain(gain)


def _activity(talk: list[bool]) -> list[int]:
    if not talk:
        return []
    slices = min(ACTIVITY_SLICES, len(talk))
    out = []
    for index in range(slices):
        part = talk[index * len(talk) // slices : (index + 1) * len(talk) // slices]
        out.append(round(100 * sum(part) / max(1, len(part))))
    return out


def process(segment: AudioSegment, *, ffmpeg: str) -> ProcessedAudio:
    """Trim silence at both ends (the same span on every channel, so they stay aligned),
    level each channel's speech, measure talk and silence per channel, encode Opus."""
    channels = segment.split_to_mono() if segment.channels > 1 else [segment]
    levels = [_frame_levels(channel) for channel in channels]
    voiced = [i for frames in levels for i, level in enumerate(frames) if level > SILENCE_DBFS]
    if voiced:
        first, last = min(voiced), max(voiced) + 1
        channels = [channel[first * FRAME_MS : last * FRAME_MS] for channel in channels]
        levels = [frames[first:last] for frames in levels]
    channels = [_level(channel, frames) for channel, frames in zip(channels, levels, strict=True)]
    stats = []
    for index, frames in enumerate(levels):
        talk = [level > SILENCE_DBFS for level in frames]
        talk_seconds = sum(talk) * FRAME_MS / 1000
        stats.append(
            ChannelStats(
                name=CHANNEL_NAMES[index] if index < len(CHANNEL_NAMES) else f"channel-{index + 1}",
                talk_seconds=round(talk_seconds, 2),
                silence_seconds=round(len(frames) * FRAME_MS / 1000 - talk_seconds, 2),
                activity=_activity(talk),
            )
        )
    joined = AudioSegment.from_mono_audiosegments(*channels) if len(channels) > 1 else channels[0]
    return ProcessedAudio(
        data=encode_opus(joined, ffmpeg=ffmpeg),
        content_type=CONTENT_TYPE,
        duration_seconds=round(len(joined) / 1000, 2),
        channels=stats,
    )


def encode_opus(segment: AudioSegment, *, ffmpeg: str) -> bytes:
    """Ogg Opus from raw PCM on stdin to stdout: nothing touches the disk."""
    command = [
        ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "s16le",
        "-ar",
        str(segment.frame_rate),
        "-ac",
        str(segment.channels),
        "-i",
        "pipe:0",
        "-c:a",
        "libopus",
        "-b:a",
        BITRATE,
        "-application",
        "voip",
        "-f",
        "ogg",
        "pipe:1",
    ]
    result = subprocess.run(  # noqa: S603 - a fixed command line; the audio goes on stdin
        command, input=segment.raw_data, capture_output=True, timeout=600, check=False
    )
    encoded: bytes = result.stdout
    if result.returncode != 0 or not encoded.startswith(b"OggS"):
        raise RuntimeError("ffmpeg could not encode the recording")
    return encoded
