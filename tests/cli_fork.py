"""The ``switchboard`` command for tests, without paying Python's start-up for each run.

A test runs the command hundreds of times, and importing the application costs about two
seconds of CPU a run. One helper process per test process imports `services.app.cli`
once and then forks a fresh child for every command: the child takes the command's
environment, working folder, stdin and arguments, writes its stdout and stderr to
files at the descriptor level (so whatever it starts writes there too), runs
`main(args)` and exits with its code, exactly as `python -m services.app.cli` would
after the same imports. The child is a separate process with its own memory, so
nothing of one command reaches the next; random state is reseeded in each.

What the fork cannot show is an error at import time or in the entry point itself: the
README trial (tests/e2e/test_readme_trial.py), `switchboard try` (test_try.py) and the
production topology (test_topology.py) run the command in processes of their own.
Set SWITCHBOARD_TEST_CLI=spawn to run every command in a process of its own instead.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import IO, Any

# The helper process: reads one JSON request a line, answers one JSON line per event.
_SERVER = r"""
import atexit, json, os, random, sys, time, traceback
from services.app import cli

reply_fd = int(sys.argv[1])
replies = os.fdopen(reply_fd, "w", buffering=1)
children = {}

def child(request):
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    time.tzset()
    random.seed()
    writing = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    files = [(request["stdin"], os.O_RDONLY), (request["stdout"], writing)]
    for fd, (path, flags) in enumerate(files + [(request["stderr"], writing)]):
        if fd == 2 and path == request["stdout"]:
            os.dup2(1, 2)  # one file for both, as with stderr=STDOUT
            continue
        opened = os.open(path, flags, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    os.close(reply_fd)
    sys.stdin = sys.__stdin__ = open(0, "r", closefd=False)
    sys.stdout = sys.__stdout__ = open(1, "w", closefd=False)
    sys.stderr = sys.__stderr__ = open(2, "w", buffering=1, closefd=False)
    sys.argv = [cli.__file__, *request["args"]]
    code = 1
    try:
        if request.get("code"):
            exec(compile(request["code"], "<batch>", "exec"), {"__name__": "__main__"})
            code = 0
        else:
            result = cli.main(request["args"])
            code = 0 if result is None else int(result)
    except SystemExit as stop:
        if stop.code is None or isinstance(stop.code, int):
            code = stop.code or 0
        else:
            print(stop.code, file=sys.stderr)
    except BaseException:
        traceback.print_exc()
    finally:
        try:
            atexit._run_exitfuncs()
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)

for line in sys.stdin:
    request = json.loads(line)
    if request["do"] == "run":
        pid = os.fork()
        if pid == 0:
            child(request)
        children[pid] = None
        replies.write(json.dumps({"pid": pid}) + "\n")
    elif request["do"] == "wait":
        pid = request["pid"]
        flags = 0 if request.get("block") else os.WNOHANG
        done, status = os.waitpid(pid, flags)
        code = os.waitstatus_to_exitcode(status) if done else None
        replies.write(json.dumps({"code": code}) + "\n")
"""


class ForkedProcess:
    """One command running in a forked child: poll, wait, terminate as with Popen."""

    def __init__(self, server: _ForkServer, pid: int, args: list[str], files: dict[str, Path]):
        self._server = server
        self.pid = pid
        self.args = args
        self.files = files
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._server.wait(self.pid, block=False)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(self.args, timeout or 0)
            time.sleep(0.05)
        assert self.returncode is not None
        return self.returncode

    def send_signal(self, number: int) -> None:
        if self.returncode is None:
            os.kill(self.pid, number)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class _ForkServer:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[str] | None = None
        self._replies: IO[str] | None = None

    def _started(self) -> tuple[subprocess.Popen[str], IO[str]]:
        if self._process is None or self._process.poll() is not None:
            read, write = os.pipe()
            root = Path(__file__).resolve().parents[1]
            self._process = subprocess.Popen(
                [sys.executable, "-c", _SERVER, str(write)],
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                pass_fds=(write,),
                text=True,
                cwd=root,
            )
            os.close(write)
            self._replies = os.fdopen(read, "r")
        assert self._replies is not None
        return self._process, self._replies

    def _ask(self, request: dict[str, Any], timeout: float = 120) -> dict[str, Any]:
        with self._lock:
            process, replies = self._started()
            assert process.stdin is not None
            process.stdin.write(json.dumps(request) + "\n")
            process.stdin.flush()
            with selectors.DefaultSelector() as waiting:
                waiting.register(replies, selectors.EVENT_READ)
                if not waiting.select(timeout):
                    process.kill()
                    raise RuntimeError("the command helper did not answer")
            line = replies.readline()
            if not line:
                raise RuntimeError("the command helper stopped")
            answer: dict[str, Any] = json.loads(line)
            return answer

    def start(
        self,
        env: dict[str, str],
        args: list[str],
        stdin: str | None,
        files: dict[str, Path],
        code: str | None = None,
    ) -> ForkedProcess:
        files["stdin"].write_text(stdin or "")
        answer = self._ask(
            {
                "do": "run",
                "env": env,
                "args": args,
                "code": code,
                "cwd": os.getcwd(),
                **{name: str(path) for name, path in files.items()},
            }
        )
        return ForkedProcess(self, int(answer["pid"]), args, files)

    def wait(self, pid: int, *, block: bool) -> int | None:
        code = self._ask({"do": "wait", "pid": pid, "block": block}, timeout=600)["code"]
        return None if code is None else int(code)


_SERVER_FOR: dict[int, _ForkServer] = {}


def _server() -> _ForkServer:
    # One helper per test process (a forked test process would share the pipe otherwise).
    return _SERVER_FOR.setdefault(os.getpid(), _ForkServer())


def spawning() -> bool:
    return os.environ.get("SWITCHBOARD_TEST_CLI") == "spawn"


def run(
    env: dict[str, str],
    args: list[str],
    stdin: str | None,
    timeout: float,
    code: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """``switchboard ARGS`` to the end, as ``subprocess.run`` with captured output (or,
    given ``code``, that Python source run as ``python -c`` would, after the imports)."""
    with tempfile.TemporaryDirectory(prefix="switchboard-cli-") as folder:
        files = {name: Path(folder) / name for name in ("stdin", "stdout", "stderr")}
        process = _server().start(env, args, stdin, files, code)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            raise
        return subprocess.CompletedProcess(
            args,
            code,
            process.files["stdout"].read_text(errors="replace"),
            process.files["stderr"].read_text(errors="replace"),
        )


def start(env: dict[str, str], args: list[str], output: Path) -> ForkedProcess:
    """``switchboard ARGS`` left running (a server), its output in ``output``."""
    stdin = output.with_name(output.name + ".stdin")
    return _server().start(env, args, None, {"stdin": stdin, "stdout": output, "stderr": output})
