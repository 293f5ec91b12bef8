"""Reading the tap's output: a line that is not a Singer message stops the run, said once.

Such a line cannot be kept aside and retried like an odd record: it has no stream, and
it may have been a SCHEMA or STATE message whose loss would misread what follows. It
means something other than the tap wrote to the pipe (or the tap is broken), never
Planhat data, so the run stops before its state moves past the line: nothing is lost,
and the next run starts from the same place once the pipe is fixed. The SDK's own
reader logs the whole line (any record content) with a traceback; this one names the
line by number only.
"""

from __future__ import annotations

import json

from singer_sdk.io_base import SingerReader
from singer_sdk.singerlib.exceptions import InvalidInputLine
from singer_sdk.singerlib.json import deserialize_json


class MessageReader(SingerReader):
    """The SDK's reader, with an error message an operator can act on."""

    def __init__(self) -> None:
        super().__init__()
        self._line_number = 0

    def deserialize_json(self, line: str) -> dict:
        self._line_number += 1
        try:
            message = deserialize_json(line)
        except json.JSONDecodeError as exc:
            problem = f"it is not JSON ({exc.msg} at column {exc.colno})"
        else:
            if isinstance(message, dict) and "type" in message:
                return message
            problem = "it is JSON but not a message object with a type"
        raise InvalidInputLine(
            f"Line {self._line_number} of the input ({len(line)} characters) is not a "
            f"Singer message: {problem}. The run stopped before the tap's state moved past "
            "it. Check what else writes to the tap's standard output (a print() in the tap, "
            "or its stderr merged into the pipe), then run again."
        )
