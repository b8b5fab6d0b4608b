"""A call's record is the same whatever order, and however often, its events arrive."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.calls.progress import CallProgress, ProgressEvent, answered_time, normalise_status

T0 = datetime(2026, 11, 18, 15, 0, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


ANSWERED = [
    ProgressEvent("initiated", 0, at(0)),
    ProgressEvent("ringing", 1, at(1)),
    ProgressEvent("in-progress", 2, at(6)),
    ProgressEvent("completed", 3, at(126), 120),
]
NOT_ANSWERED = [
    ProgressEvent("initiated", 0, at(0)),
    ProgressEvent("ringing", 1, at(1)),
    ProgressEvent("no-answer", 2, at(26), 0),
]


def replay(events: list[ProgressEvent]) -> CallProgress:
    progress = CallProgress.first(events[0])
    for event in events[1:]:
        progress = progress.apply(event)
    return progress


def test_ordered_replay_of_an_answered_call() -> None:
    final = replay(ANSWERED)
    assert (final.status, final.started_at, final.answered_at, final.ended_at) == (
        "completed",
        at(0),
        at(6),
        at(126),
    )
    assert final.duration_seconds == 120


@settings(max_examples=300, deadline=None)
@given(
    script=st.sampled_from([ANSWERED, NOT_ANSWERED]),
    data=st.data(),
)
def test_any_order_with_duplicates_gives_the_ordered_result(
    script: list[ProgressEvent], data: st.DataObject
) -> None:
    arrivals = data.draw(st.permutations(script + data.draw(st.lists(st.sampled_from(script)))))
    assert replay(arrivals) == replay(script)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_a_terminal_status_is_never_left(data: st.DataObject) -> None:
    arrivals = data.draw(st.permutations(ANSWERED))
    progress = CallProgress.first(arrivals[0])
    seen_terminal = progress.status == "completed"
    for event in arrivals[1:]:
        progress = progress.apply(event)
        if seen_terminal:
            assert progress.status == "completed"
        seen_terminal = seen_terminal or progress.status == "completed"


def test_only_the_end_reported_still_gives_answer_time() -> None:
    final = CallProgress.first(ProgressEvent("completed", -1, at(100), 40))
    assert final.answered_at is None
    assert final.ended_at == at(100)
    assert answered_time(None, final.ended_at, final.status, final.duration_seconds) == at(60)
    assert answered_time(at(59), final.ended_at, final.status, 40) == at(59)
    assert answered_time(None, at(20), "no-answer", 0) is None


def test_status_names() -> None:
    assert normalise_status("Answered") == "in-progress"
    assert normalise_status("no-answer") == "no-answer"
    assert normalise_status("exploded") is None
    assert normalise_status(None) is None
