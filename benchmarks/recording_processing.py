"""Processing a 10-minute 8 kHz dual-channel recording, against a plain ffmpeg transcode.

The baseline is ffmpeg alone turning the same WAV into the same Opus stream; ours reads
and checks the WAV, trims, levels and measures each channel with pydub, and encodes
through ffmpeg on pipes. Prints wall time and their ratio (target: within 1.5x), the
real-time factor, peak memory, and the compression ratio.

    python -m benchmarks.recording_processing [--minutes 10] [--runs 3]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import time
import tracemalloc
from pathlib import Path

from benchmarks.scratch import Scratch, run
from services.recordings import audio
from tests.audio import dual_channel_wav, speech


def conversation(minutes: float) -> bytes:
    seconds = minutes * 60
    caller_turns, agent_turns, at, turn = [], [], 2.0, 0
    while at < seconds - 4:
        length = 3.0 + (turn * 7) % 9
        (caller_turns if turn % 2 == 0 else agent_turns).append((at, min(at + length, seconds - 2)))
        at += length + 0.8
        turn += 1
    return dual_channel_wav(
        speech(seconds, caller_turns, pitch=205, seed=1),
        speech(seconds, agent_turns, pitch=118, seed=2),
    )


def plain_transcode(ffmpeg: str, wav: Path) -> float:
    started = time.perf_counter()
    subprocess.run(
        [
            ffmpeg,
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(wav),
            "-c:a",
            "libopus",
            "-b:a",
            audio.BITRATE,
            "-application",
            "voip",
            "-f",
            "ogg",
            "pipe:1",
        ],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


def ours(ffmpeg: str, data: bytes, seconds: int) -> tuple[float, audio.ProcessedAudio]:
    started = time.perf_counter()
    segment = audio.read_wav(data, expected_seconds=seconds, expected_channels=2)
    processed = audio.process(segment, ffmpeg=ffmpeg)
    return time.perf_counter() - started, processed


def peak_memory(ffmpeg: str, data: bytes, seconds: int) -> int:
    """Peak Python allocation of one run (traced separately: tracing slows the run)."""
    tracemalloc.start()
    audio.process(
        audio.read_wav(data, expected_seconds=seconds, expected_channels=2), ffmpeg=ffmpeg
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def main(space: Scratch) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    ffmpeg = audio.ffmpeg_executable()
    data = conversation(args.minutes)
    seconds = int(args.minutes * 60)
    wav = space.dir / "call.wav"
    wav.write_bytes(data)
    plain = [plain_transcode(ffmpeg, wav) for _ in range(args.runs)]
    runs = [ours(ffmpeg, data, seconds) for _ in range(args.runs)]
    base = statistics.median(plain)
    mine = statistics.median(run[0] for run in runs)
    processed, peak = runs[-1][1], peak_memory(ffmpeg, data, seconds)
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{args.minutes:g}-minute 8 kHz dual-channel WAV: {len(data) / 1e6:.1f} MB")
    print(f"plain ffmpeg transcode   {base:6.2f} s")
    print(f"switchboard processing   {mine:6.2f} s   ratio {mine / base:.2f}x (target 1.5x)")
    speed = seconds / mine
    print(f"real-time factor         {mine / seconds:.4f} ({speed:.0f}x faster than real time)")
    print(f"peak Python memory       {peak / 1e6:.1f} MB; ffmpeg peak RSS {children:.1f} MB")
    ratio, size = len(data) / len(processed.data), len(processed.data) / 1e6
    print(f"compression              {ratio:.1f}x ({size:.2f} MB Opus)")
    for channel in processed.channels:
        talk, silence = channel.talk_seconds, channel.silence_seconds
        print(f"  {channel.name:<7} talk {talk:7.1f} s  silence {silence:7.1f} s")
    space.check(len(processed.channels) == 2, "both channels measured")
    space.check(
        all(channel.talk_seconds > 0 for channel in processed.channels),
        "talk found on both channels of a conversation",
    )
    space.check(ratio > 1, "the Opus stream is smaller than the WAV")


if __name__ == "__main__":
    run("recording", main)
