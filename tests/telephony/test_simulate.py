"""The simulator's plan and its progress bar (the runs against a server are in tests/e2e)."""

from __future__ import annotations

import io

from telephony.simulate import CITY_NUMBER, ProgressBar, plan


def test_no_simulated_caller_has_the_city_lines_own_number() -> None:
    """Searching a caller who was the line itself found every call: it looked like a bug."""
    sender = "+14155550150"
    callers = {call.caller for call in plan(4000, seed=1, line_numbers=[sender])}
    assert CITY_NUMBER not in callers
    assert sender not in callers
    # Without the option, the city's number is still never a caller.
    assert CITY_NUMBER not in {call.caller for call in plan(4000, seed=2)}


def test_the_plan_is_the_same_for_the_same_seed() -> None:
    assert [c.caller for c in plan(200, seed=7)] == [c.caller for c in plan(200, seed=7)]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_progress_bar_redraws_one_line_on_a_terminal() -> None:
    terminal = Terminal()
    bar = ProgressBar(terminal)
    for done in range(1, 5):
        bar(done, 4)
    bar.finish()
    text = terminal.getvalue()
    assert text.count("\r") == 4 and text.endswith("] 4/4 calls\n")
    assert text.count("\n") == 1


def test_the_progress_bar_is_silent_when_output_is_not_a_terminal() -> None:
    log = io.StringIO()
    bar = ProgressBar(log)
    bar(1, 2)
    bar.finish()
    assert log.getvalue() == ""
