r"""One event, one log line: text from outside (names, Dust's messages) cannot break a line.

A company called "Acme\nERROR fake" would otherwise print two lines, the second posing
as an event of its own. Every log record the process makes, ours or a library's, has the
line breaks and other control characters of its message and text arguments escaped,
whatever handler or formatter Meltano or the SDK installs. Other arguments (the SDK's
metric points) are left as they are, so structured logging still sees them.
"""

from __future__ import annotations

import logging
import re
from typing import Any

_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
"""Control characters (tab aside) and the Unicode line and paragraph separators."""


def one_line(text: str) -> str:
    r"""`text` with each control character written as its escape, e.g. a newline as `\n`."""
    return _CONTROL.sub(lambda match: repr(match.group())[1:-1], text)


def _escaped(value: Any) -> Any:
    if isinstance(value, str):
        return one_line(value)
    if isinstance(value, BaseException):
        return one_line(str(value))
    return value


def keep_events_on_one_line() -> None:
    """Escape the message of every log record made from now on; safe to call again."""
    make_record = logging.getLogRecordFactory()
    if getattr(make_record, "keeps_one_line", False):
        return

    def make_one_line_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        record.msg = _escaped(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_escaped(arg) for arg in record.args)
        return record

    make_one_line_record.keeps_one_line = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_one_line_record)
