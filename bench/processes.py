"""Run the tap and the target as child processes and measure them from outside.

Peak memory comes from the kernel (`wait4` returns each child's `ru_maxrss`), so the
numbers include the interpreter and every library, and need no extra dependency. Each
command runs under `launch.py`, whose docstring says why.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO

BIN = Path(sys.executable).parent
TAP = BIN / "tap-planhat"
TARGET = BIN / "target-dust"
LAUNCH = Path(__file__).resolve().parent / "launch.py"


@dataclass(frozen=True)
class Finished:
    """One child process after it exited."""

    name: str
    exit_code: int
    seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    stderr: Path


class ProcessFailedError(RuntimeError):
    """A measured process exited with an error; the benchmark cannot go on with its numbers."""


def run_chain(
    commands: list[tuple[str, list[str]]],
    *,
    cwd: Path,
    stdin: Path | None = None,
    stdout: Path,
) -> list[Finished]:
    """Run `commands` as a shell-like pipe `a | b | ...` and measure each process.

    Each stage's stderr goes to `cwd/<name>.log`; the last stage's stdout to `stdout`.
    """
    started = time.monotonic()
    procs: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    upstream: IO[bytes] | None = stdin.open("rb") if stdin else None
    with stdout.open("wb") as out:
        for position, (name, argv) in enumerate(commands):
            last = position == len(commands) - 1
            log = cwd / f"{name}.log"
            with log.open("wb") as err:
                proc = subprocess.Popen(
                    [sys.executable, "-I", "-S", str(LAUNCH), f"{name}.usage", *argv],
                    cwd=cwd,
                    stdin=upstream,
                    stdout=out if last else subprocess.PIPE,
                    stderr=err,
                )
            if upstream:
                upstream.close()  # the child holds its own copy; EOF must reach it
            upstream = proc.stdout
            procs.append((name, proc, log))
        return [_wait(name, proc, cwd, started) for name, proc, _ in procs]


def check(finished: list[Finished]) -> list[Finished]:
    """Raise with the end of the failing process's log when any stage failed."""
    for process in finished:
        if process.exit_code != 0:
            tail = process.stderr.read_text(errors="replace")[-3000:]
            raise ProcessFailedError(
                f"{process.name} exited with {process.exit_code}; end of its log:\n{tail}"
            )
    return finished


def _wait(name: str, proc: subprocess.Popen[bytes], cwd: Path, started: float) -> Finished:
    exit_code = proc.wait()
    seconds = time.monotonic() - started
    usage = cwd / f"{name}.usage"
    peak_kb, cpu = usage.read_text().split() if usage.exists() else ("0", "0")
    return Finished(
        name=name,
        exit_code=exit_code,
        seconds=seconds,
        cpu_seconds=float(cpu),
        peak_rss_mb=int(peak_kb) / 1024,  # kilobytes on Linux
        stderr=cwd / f"{name}.log",
    )
