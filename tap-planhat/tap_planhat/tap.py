"""The Planhat tap: settings and streams."""

from __future__ import annotations

import io
import os
import sys
from functools import cached_property
from typing import IO, TYPE_CHECKING, Any, NoReturn

from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.exceptions import FatalAPIError, RetriableAPIError
from typing_extensions import override

from tap_planhat.logs import keep_events_on_one_line
from tap_planhat.memory import return_freed_pages
from tap_planhat.startup import (
    SetupError,
    check_settings,
    check_state,
    parse_json_object,
    read_json_object,
)
from tap_planhat.streams import STREAM_TYPES
from tap_planhat.throttle import Throttle

if TYPE_CHECKING:
    import click
    from singer_sdk.plugin_base import _ConfigInput


class TapPlanhat(Tap):
    """Singer tap for Planhat: one top-level incremental stream per model."""

    name = "tap-planhat"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_token",
            th.StringType(nullable=False),
            required=True,
            secret=True,
            title="API token",
            description=(
                "API access token of a Planhat service account (Private App). It needs "
                "read permission on each model to sync; a model it may not read is "
                "skipped with a warning."
            ),
        ),
        th.Property(
            "api_url",
            th.URIType(nullable=False),
            default="https://api.planhat.com",
            title="API URL",
            description=(
                "Planhat API host of your tenant's cluster. Tenants outside the default "
                "cluster use another host, e.g. https://api-eu.planhat.com (also "
                "api-eu2, api-eu3, api-us2, api-us4); a 401 often means the wrong host."
            ),
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            title="Start date",
            description=(
                "Only records updated at or after this moment on the first run. "
                "Omit it to sync the full history; later runs continue from the state."
            ),
        ),
        th.Property(
            "full_read_interval_hours",
            th.NumberType(minimum=0),
            default=24,
            title="Full read interval (hours)",
            description=(
                "Read a stream in full, instead of only what changed, when its last "
                "complete read is older than this; a complete read ends with "
                "ACTIVATE_VERSION, so targets drop what was deleted in Planhat. It costs "
                "a first sync's requests. 0: only when the state has no bookmark."
            ),
        ),
        th.Property(
            "max_requests_per_minute",
            th.IntegerType(minimum=1),
            default=200,
            title="Max requests per minute",
            description=(
                "Requests to Planhat in any minute, across all streams. The default is "
                "Planhat's documented quota; lower it when other integrations share it."
            ),
        ),
        th.Property(
            "request_timeout",
            th.NumberType(exclusive_minimum=0),
            default=120,
            title="Request timeout",
            description=(
                "Seconds to wait for one Planhat answer before retrying it. Pages of "
                "2,000 conversations with long HTML bodies can take a while."
            ),
        ),
    ).to_dict()

    @override
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        keep_events_on_one_line()
        super().__init__(*args, **kwargs)

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> Any:
        """Each `--config` file must hold a JSON object: else one ERROR line, before anything."""
        try:
            for path in value:
                if path != "ENV":
                    read_json_object(path, "--config")
        except SetupError as error:
            cls._stop(error)
        return super().cb_config(ctx, param, value)

    @override
    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: _ConfigInput | None = None,
        state: IO[str] | None = None,
        catalog: IO[str] | None = None,
    ) -> None:
        """Run the tap; a failure it can explain ends in one ERROR line, not a traceback."""
        keep_events_on_one_line()
        try:
            if state is not None:
                text = state.read()
                parse_json_object(text, f"The --state file {state.name}", "--state")
                state = io.StringIO(text)
            super().invoke(
                about=about, about_format=about_format, config=config, state=state, catalog=catalog
            )
        except BrokenPipeError:
            # Nothing can be written to stdout any more, not even at interpreter exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            cls._stop(
                "The target stopped reading the tap's output (broken pipe); its own log "
                "says why: fix that error and run again."
            )
        except (SetupError, FatalAPIError, RetriableAPIError) as error:
            cls._stop(error)

    @classmethod
    def _stop(cls, error: Exception | str) -> NoReturn:
        cls.logger.error("%s", error)
        sys.exit(1)

    @override
    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        errors = super()._validate_config(raise_errors=raise_errors)
        if raise_errors:
            check_settings(dict(self.config))
        return errors

    @override
    def load_state(self, state: dict[str, Any]) -> None:
        super().load_state(check_state(state))

    @cached_property
    def throttle(self) -> Throttle:
        """The request quota every stream of this run draws from."""
        return Throttle(self.config["max_requests_per_minute"], self.logger)

    @override
    def sync_all(self) -> None:
        return_freed_pages()
        super().sync_all()

    @override
    def discover_streams(self) -> list:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]
