"""Run one command from a small parent and write the command's peak memory and CPU time.

Linux keeps a process's memory high-water mark across exec, so a command spawned by the
bench process (which holds whole tenants in memory) would report the bench's size, not
its own. This launcher imports nothing beyond `os` and `sys` and is started with `-I -S`,
so the floor it adds is the few MB of a bare interpreter.

Usage: python -I -S bench/launch.py REPORT COMMAND [ARG...]; exits with COMMAND's code.
"""

import os
import sys


def main() -> None:
    report, argv = sys.argv[1], sys.argv[2:]
    pid = os.posix_spawn(argv[0], argv, os.environ)
    _, status, usage = os.wait4(pid, 0)
    with open(report, "w", encoding="utf-8") as out:  # noqa: PTH123 - pathlib is not imported
        out.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}\n")
    sys.exit(os.waitstatus_to_exitcode(status))


if __name__ == "__main__":
    main()
