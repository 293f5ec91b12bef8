"""TargetDust: one Dust document per Planhat company, kept up to date from a Singer stream."""

from __future__ import annotations

import sys
from collections import Counter
from functools import cached_property
from typing import TYPE_CHECKING, Any

import click
from singer_sdk import typing as th
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.singerlib.exceptions import InvalidInputLine
from singer_sdk.target_base import Target

from target_dust.dust import DustClient, DustError
from target_dust.dust_tables import DustTables
from target_dust.intake import Intake, StreamLink
from target_dust.logs import keep_events_on_one_line
from target_dust.messages import MessageReader
from target_dust.progress import log_intake_summary
from target_dust.publish import DryRunDestination, DustDestination, Publisher, StoreLostError
from target_dust.render import (
    DEFAULT_LINKS,
    DOCUMENT_ID_MODES,
    MAX_DOCUMENT_CHARS,
    MIN_DOCUMENT_CHARS,
    OPTIONAL_SECTIONS,
    STREAM_KINDS,
    RenderOptions,
)
from target_dust.schema_check import OddValues
from target_dust.sinks import CompanyRecordSink, IgnoredStreamSink
from target_dust.store import SHARED_KINDS, Store, StoreError
from target_dust.sweep import DeletionRefusedError, Sweep
from target_dust.tables import DEFAULT_TABLES, TABLES, CsvRows, DustRows, RowDestination, TableSync
from target_dust.termination import MAX_STOP_WAIT_SECONDS, StopRequest, exit_now

if TYPE_CHECKING:
    from types import FrameType

    from singer_sdk.sinks import Sink

DEFAULT_STREAMS = {name: StreamLink(name, keys) for name, keys in DEFAULT_LINKS.items()}
"""The tap's streams, each named as its kind, linked as the kinds table says."""
DEFAULT_STORE_URL = ".target-dust/store.db"
DUST_SETTINGS = ("api_key", "workspace_id", "space_id", "data_source_id")
"""Needed to reach Dust, so required unless `dry_run` is on."""
STOPS = (DustError, StoreError, StoreLostError, InvalidInputLine, DeletionRefusedError)
"""Errors whose message names the cause and the fix: one ERROR line, no traceback."""


class TargetDust(Target):
    """Stages records per company in a persistent store and upserts one document each."""

    name = "target-dust"

    config_jsonschema = th.PropertiesList(
        th.Property(
            "api_key",
            th.StringType,
            secret=True,
            title="API key",
            description="Dust workspace API key (sk-...) with write access to the space. "
            "Required, like workspace_id, space_id and data_source_id, unless dry_run is on.",
        ),
        th.Property(
            "workspace_id",
            th.StringType,
            title="Workspace id",
            description="Dust workspace sId, as in the workspace URL.",
        ),
        th.Property(
            "space_id",
            th.StringType,
            title="Space id",
            description="sId of the space that holds the data source.",
        ),
        th.Property(
            "data_source_id",
            th.StringType,
            title="Data source id",
            description="sId (dts_...) of a folder data source; connector data sources are "
            "read-only.",
        ),
        th.Property(
            "base_url",
            th.StringType,
            default="https://dust.tt",
            title="Base URL",
            description="Dust API host: https://dust.tt, or https://eu.dust.tt for EU workspaces.",
        ),
        th.Property(
            "store_url",
            th.StringType,
            default=DEFAULT_STORE_URL,
            title="Record store",
            description="Where records are kept between runs: a SQLite file path (or "
            "sqlite:///path), or a PostgreSQL URL (postgresql://, postgres://, "
            "postgresql+psycopg:// or postgresql+psycopg2://) for runners whose disk does not "
            "survive a run (needs `pip install 'target-dust[postgres]'`). Other URLs are "
            "refused.",
        ),
        th.Property(
            "concurrency",
            th.IntegerType(minimum=1),
            default=4,
            title="Concurrent upserts",
            description="Upserts in flight at once; all share max_upserts_per_minute.",
        ),
        th.Property(
            "max_upserts_per_minute",
            th.IntegerType(minimum=1),
            default=120,
            title="Upserts per minute",
            description="Client-side limit for the whole workspace. Dust allows 120 per minute "
            "per workspace, shared by every key; lower it if other tools upsert too.",
        ),
        th.Property(
            "request_timeout",
            th.NumberType(exclusive_minimum=0),
            default=180,
            title="Request timeout",
            description="Seconds to wait for Dust's answer to one request. Dust indexes a "
            "document before answering; large ones take well over a minute.",
        ),
        th.Property(
            "max_document_chars",
            th.IntegerType(minimum=MIN_DOCUMENT_CHARS, maximum=MAX_DOCUMENT_CHARS),
            default=750_000,
            title="Maximum document size",
            description="Larger documents are trimmed: the longest bodies are cut first (marked "
            "[cut: N characters]), then the oldest items are dropped, never the newest "
            "conversation; a closing section lists what was left out. Dust's connectors use "
            "750000; at most "
            "2000000, under the 2 MB that Dust's standard plans accept.",
        ),
        th.Property(
            "document_id_mode",
            th.StringType,
            default="planhat_id",
            allowed_values=list(DOCUMENT_ID_MODES),
            title="Document ids",
            description="planhat_id: planhat-company-<_id>, never changes. legacy: the "
            "original script's ids (slug, else _id), for data sources it filled; when a slug "
            "changes, the old document is deleted.",
        ),
        th.Property(
            "source_url_template",
            th.StringType,
            title="Source URL template",
            description="Link from each document back to Planhat, with {field} placeholders "
            "filled from the company record, e.g. https://app.planhat.com/profile/{_id}.",
        ),
        th.Property(
            "max_delete_share",
            th.NumberType(minimum=0, maximum=1),
            default=0.1,
            title="Maximum share of documents deleted",
            description="A complete read (the tap's ACTIVATE_VERSION) removes what Planhat "
            "no longer lists and deletes the documents of deleted companies. A run that would "
            "delete more than this share of the target's documents deletes nothing and exits "
            "non-zero; raise it for one run to allow a large deletion.",
        ),
        th.Property(
            "dry_run",
            th.BooleanType,
            default=False,
            title="Dry run",
            description="Write each rendered document to output_dir (the exact request body "
            "as JSON and a markdown view) instead of calling Dust.",
        ),
        th.Property(
            "output_dir",
            th.StringType,
            default="output/dust-documents",
            title="Dry-run output directory",
            description="Where dry_run writes documents.",
        ),
        th.Property(
            "rebuild_store",
            th.BooleanType,
            default=False,
            title="Rebuild the store",
            description="Allow a new (empty) store while the data source already holds this "
            "target's documents. Set it only for the full-refresh run that rebuilds a lost "
            "store (e.g. `meltano run --full-refresh tap-planhat target-dust`); without it "
            "such a run stops rather than replace complete documents with partial ones.",
        ),
        th.Property(
            "tables",
            th.ArrayType(th.StringType(allowed_values=list(TABLES))),
            default=list(DEFAULT_TABLES),
            title="Dust tables",
            description="Tables kept beside the documents for questions over the whole "
            "book in SQL (an agent's Query Tables tool): companies (planhat_companies, one row "
            "per company with health, revenue, renewal, latest NPS and open work) and licenses "
            "(planhat_licenses). [] keeps none. Dry runs write them as CSV files to "
            "output_dir.",
        ),
        th.Property(
            "streams",
            th.ObjectType(
                additional_properties=th.ObjectType(
                    th.Property(
                        "kind", th.StringType, required=True, allowed_values=list(STREAM_KINDS)
                    ),
                    th.Property("company_key", th.StringType),
                ),
            ),
            title="Streams",
            description="Stream name -> {kind, company_key}: what the stream holds (one of "
            f"{', '.join(STREAM_KINDS)}) and which field names its company (an id, or a list "
            "of ids). Entries are added to the defaults (each stream named as its kind; "
            "companies: _id; nps, invoices: cId; issues: companyIds; users, customfields: "
            "none; the others: companyId), so streams renamed by stream maps can be linked. "
            "Other streams are ignored with a warning.",
        ),
        th.Property(
            "extra_sections",
            th.ArrayType(th.StringType(allowed_values=list(OPTIONAL_SECTIONS))),
            default=[],
            title="Extra sections",
            description=f"Sections rendered besides the defaults: any of "
            f"{', '.join(OPTIONAL_SECTIONS)}. Their streams are kept in the store either way; "
            "documents show a newly added section as their companies change.",
        ),
    ).to_dict()

    default_sink_class = CompanyRecordSink
    message_reader_class = MessageReader

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        keep_events_on_one_line()
        super().__init__(*args, **kwargs)
        self.max_parallelism = 1  # one flush at a time: it renders every dirty company
        self.stopping = StopRequest(
            self.logger, wait_seconds=min(self.config["request_timeout"], MAX_STOP_WAIT_SECONDS)
        )
        self._ending = False
        self._ignored_streams: set[str] = set()
        self.odd_values: OddValues = Counter()
        _ = self.stream_links  # a bad `streams` setting fails at start, not mid-stream

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        """The schema's checks, then the Dust settings, which only a dry run may leave out."""
        errors = super()._validate_config(raise_errors=raise_errors)
        if self._config.get("dry_run"):
            return errors
        missing = [
            f"'{name}' is a required property unless dry_run is true"
            for name in DUST_SETTINGS
            if not self._config.get(name)
        ]
        if missing and raise_errors:
            raise ConfigValidationError("Config validation failed", errors=missing)
        return errors + missing

    @classmethod
    def invoke(cls, **kwargs: Any) -> None:  # type: ignore[override]
        """Run from the command line; an error a person can act on ends in one ERROR line."""
        keep_events_on_one_line()
        try:
            super().invoke(**kwargs)
        except STOPS as exc:
            cls.logger.debug("The run stopped here:", exc_info=True)
            cls.logger.error("%s", exc)  # noqa: TRY400 - the message says it all
            sys.exit(1)

    @classmethod
    def get_singer_command(cls) -> click.Command:
        """The SDK's command, plus `--test`: check the Dust settings and exit."""
        command = super().get_singer_command()
        command.params.append(
            click.Option(
                ["--test"],
                is_flag=True,
                expose_value=False,
                callback=cls.cb_test,
                help="Check api_key, workspace_id, space_id and data_source_id with one read "
                "from Dust, say which is wrong, and exit (non-zero if one is).",
            )
        )
        return command

    @classmethod
    def cb_test(cls, ctx: click.Context, param: click.Option, value: bool) -> None:
        """`--test`: the click callback, run once `--config` is read."""
        if not value:
            return
        config = ctx.params["config"]  # --config is eager: read before this callback runs
        try:
            target = cls(config=config.config, parse_env_config=config.parse_env)
            message = target.check_settings()
        except ConfigValidationError as exc:
            cls.logger.error("Config validation failed: %s", "; ".join(exc.errors))  # noqa: TRY400
            ctx.exit(1)
        except DustError as exc:
            cls.logger.error("%s", exc)  # noqa: TRY400 - the message says it all
            ctx.exit(1)
        cls.logger.info("%s", message)
        ctx.exit(0)

    def check_settings(self) -> str:
        """Read from the data source once; raise `DustError` naming the setting that is wrong."""
        if self.config.get("dry_run"):
            return (
                f"dry_run is on: documents go to {self.config['output_dir']}, Dust is not "
                "called, so there is no Dust setting to check."
            )
        client = self._dust_client()
        try:
            client.check_access()
        finally:
            client.close()
        return (
            f"Dust settings work: data source {self.config['data_source_id']} in space "
            f"{self.config['space_id']} of workspace {self.config['workspace_id']} at "
            f"{self.config['base_url']} can be read with this api_key (write access is "
            "checked by the first upsert)."
        )

    @classmethod
    def cb_config(cls, ctx: click.Context, param: click.Option, value: tuple[str, ...]) -> Any:
        """Read `--config`; a file that cannot be read stops with one ERROR line."""
        try:
            return super().cb_config(ctx, param, value)
        except (OSError, ValueError, TypeError) as exc:
            cls.logger.error(  # noqa: TRY400 - the message says it all
                "Cannot read the --config file (%s): %s. Pass a JSON object file, as Meltano "
                'writes, e.g. {"api_key": "sk-...", "workspace_id": "..."}.',
                ", ".join(value),
                type(exc).__name__ if isinstance(exc, TypeError) else exc,
            )
            ctx.exit(1)

    @cached_property
    def stream_links(self) -> dict[str, StreamLink]:
        configured = self.config.get("streams") or {}
        links = {
            **DEFAULT_STREAMS,
            **{
                name: StreamLink(link["kind"], tuple(filter(None, [link.get("company_key")])))
                for name, link in configured.items()
            },
        }
        unlinked = sorted(
            n
            for n, link in links.items()
            if link.kind not in SHARED_KINDS and not link.company_keys
        )
        if unlinked:
            raise ConfigValidationError(
                "Config validation failed",
                errors=[f"streams.{name}: company_key is required" for name in unlinked],
            )
        return links

    @cached_property
    def publisher(self) -> Publisher:
        """Opened on first use, so `--about` and empty runs touch neither disk nor network."""
        options = RenderOptions(
            max_document_chars=self.config["max_document_chars"],
            document_id_mode=self.config["document_id_mode"],
            source_url_template=self.config.get("source_url_template"),
            extra_sections=tuple(self.config.get("extra_sections") or ()),
        )
        rows: RowDestination
        if self.config.get("dry_run"):
            destination: DustDestination | DryRunDestination = DryRunDestination(
                self.config["output_dir"]
            )
            rows = CsvRows(self.config["output_dir"])
        else:
            client = self._dust_client()
            # Before the store opens and any state is written: a wrong key or id stops even
            # a run with nothing to send, instead of passing unnoticed.
            client.check_access()
            destination = DustDestination(client)
            rows = DustRows(DustTables(client, logger=self.logger))
        specs = [TABLES[key] for key in dict.fromkeys(self.config.get("tables") or ())]

        def tables(publisher: Publisher) -> TableSync:
            return TableSync(
                store=publisher.store,
                destination=rows,
                specs=specs,
                url_template=options.source_url_template,
                stopping=self.stopping,
                check_store=publisher.check_store,
                logger=self.logger,
            )

        return Publisher(
            store=Store.open(self.config["store_url"], guard=self.stopping),
            destination=destination,
            options=options,
            concurrency=self.config["concurrency"],
            rebuild_store=self.config["rebuild_store"],
            stopping=self.stopping,
            logger=self.logger,
            tables=tables if specs else None,
        )

    def _dust_client(self) -> DustClient:
        return DustClient(
            base_url=self.config["base_url"],
            api_key=self.config["api_key"],
            workspace_id=self.config["workspace_id"],
            space_id=self.config["space_id"],
            data_source_id=self.config["data_source_id"],
            max_upserts_per_minute=self.config["max_upserts_per_minute"],
            concurrency=self.config["concurrency"],
            timeout=self.config["request_timeout"],
            logger=self.logger,
        )

    @cached_property
    def intake(self) -> Intake:
        return Intake(
            store=self.publisher.store,
            links=self.stream_links,
            guard=self.publisher.check_store,
        )

    @cached_property
    def sweep(self) -> Sweep:
        return Sweep(
            store=self.publisher.store,
            tally=self.publisher.tally,
            max_delete_share=self.config["max_delete_share"],
            dry_run=bool(self.config.get("dry_run")),
            logger=self.logger,
        )

    def _process_activate_version_message(self, message_dict: dict) -> None:
        """The SDK's handler, without its warning about `_sdc_` columns this target never has."""
        for stream_map in self.mapper.stream_maps[message_dict["stream"]]:
            self.get_sink(stream_map.stream_alias).activate_version(message_dict["version"])

    def _process_record_message(self, message_dict: dict) -> None:
        """A RECORD whose `record` is not an object would stop the SDK: set it aside."""
        record = message_dict.get("record")
        stream = message_dict.get("stream")
        if isinstance(record, dict) or "record" not in message_dict:
            super()._process_record_message(message_dict)
        elif self.get_sink_class(stream) is CompanyRecordSink:
            self.intake.receive(stream, [], record)

    def get_sink_class(self, stream_name: str) -> type[Sink]:
        if stream_name in self.stream_links:
            return CompanyRecordSink
        if stream_name not in self._ignored_streams:
            self._ignored_streams.add(stream_name)
            self.logger.warning(
                "Ignoring stream %r: it is not linked to companies (see the `streams` setting).",
                stream_name,
            )
        return IgnoredStreamSink

    def process_endofpipe(self) -> None:
        """Flush even when no record came, so documents left pending by a past run are retried."""
        _ = self.intake  # records set aside by past runs are retried even by an empty run
        self.publisher.flush()
        self.sweep.apply()  # deletions come after every upsert of the run has succeeded
        self.publisher.flush()
        super().process_endofpipe()
        self._ending = True  # a signal from here on changes nothing: the run is ending
        self._summarise()
        if self.sweep.refusal:
            raise DeletionRefusedError(self.sweep.refusal)

    def _summarise(self) -> int:
        """The run's closing lines; returns the companies left pending."""
        log_intake_summary(self.logger, self.odd_values, self.publisher.store.aside.groups())
        return self.publisher.finish()

    def _handle_termination(self, signum: int, frame: FrameType | None) -> None:
        """SIGTERM or SIGINT: stop safely instead of the SDK's drain and exit 0 (termination.py)."""
        if "publisher" not in self.__dict__:  # no stream has started: nothing to lose
            super()._handle_termination(signum, frame)
        elif not self._ending:
            self.stopping.request(signum, self._stop)

    def _stop(self) -> None:
        """Write the state of what is staged, the summary, and exit non-zero if work is left."""
        if self._ending:
            return
        self.drain_all(is_endofpipe=True)  # commits the store before the state is written
        pending = self._summarise()
        code = 128 + (self.stopping.signum or 0) if pending else 0
        if self.publisher.abandoned:
            exit_now(code)
        sys.exit(code)
