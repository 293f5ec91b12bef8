"""The Planhat tap: settings and streams."""

from __future__ import annotations

from functools import cached_property

from singer_sdk import Tap
from singer_sdk import typing as th
from typing_extensions import override

from tap_planhat.memory import return_freed_pages
from tap_planhat.streams import STREAM_TYPES
from tap_planhat.throttle import Throttle


class TapPlanhat(Tap):
    """Singer tap for Planhat companies, conversations, end users, NPS, projects, assets, users."""

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

    @cached_property
    def throttle(self) -> Throttle:
        """The request quota every stream of this run draws from."""
        return Throttle(self.config["max_requests_per_minute"])

    @override
    def sync_all(self) -> None:
        return_freed_pages()
        super().sync_all()

    @override
    def discover_streams(self) -> list:
        return [stream_type(tap=self) for stream_type in STREAM_TYPES]
