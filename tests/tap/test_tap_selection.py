"""Fields deselected in the catalog are not downloaded: the tap sends Planhat `select=`."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout
from typing import TYPE_CHECKING, Any

from tap_planhat.tap import TapPlanhat

from tests.tap.support import STREAMS, TapRun, config_for

if TYPE_CHECKING:
    from collections.abc import Callable

    from tests.tap.support import HookedPlanhat

KEEP = {"companies": {"name"}, "conversations": {"subject"}, "nps": {"score"}}
"""Fields a user selects (`meltano select`); every other field of these streams is off."""


def narrowed_catalog(config: dict[str, Any]) -> dict[str, Any]:
    """The discovered catalog with only KEEP's fields selected in KEEP's streams."""
    catalog = TapPlanhat(config=config, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        keep = KEEP.get(entry["tap_stream_id"])
        for item in entry["metadata"]:
            breadcrumb = item["breadcrumb"]
            if not breadcrumb:
                item["metadata"]["selected"] = True
            elif keep is not None:
                item["metadata"]["selected"] = breadcrumb[-1] in keep
    return catalog


def run_with(config: dict[str, Any], catalog: dict[str, Any]) -> TapRun:
    tap = TapPlanhat(config=config, catalog=catalog, parse_env_config=False)
    out = io.StringIO()
    with redirect_stdout(out):
        tap.sync_all()
    return TapRun([json.loads(line) for line in out.getvalue().splitlines()])


def test_deselected_fields_are_not_asked_for(planhat: Callable[..., HookedPlanhat]) -> None:
    server = planhat()
    config = config_for(server)

    run = run_with(config, narrowed_catalog(config))

    selects = {
        model: {q.get("select", [None])[0] for q in server.lists(model)} for model in STREAMS
    }
    assert selects["companies"] == {"_id,name,updateDate,updatedAt"}
    assert selects["conversations"] == {"_id,companyId,subject,updateDate,updatedAt"}
    assert selects["nps"] == {"_id,cId,score,updateDate,updatedAt"}
    for model in set(STREAMS) - set(KEEP):
        assert selects[model] == {None}, model  # everything selected: no select at all
    # The records carry the selected fields plus the keys: _id, updatedAt, the company link.
    assert {frozenset(r) for r in run.records("companies")} == {
        frozenset({"_id", "name", "updatedAt"})
    }
    assert {frozenset(r) for r in run.records("conversations")} <= {
        frozenset({"_id", "companyId", "subject", "updatedAt"}),
        frozenset({"_id", "companyId", "updatedAt"}),  # a conversation without a subject
    }
    assert {frozenset(r) for r in run.records("nps")} <= {
        frozenset({"_id", "cId", "score", "updatedAt"}),
        frozenset({"_id", "cId", "updatedAt"}),
    }
    assert len(run.records("companies")) == len(server.records("companies"))


def test_everything_selected_sends_no_select(planhat: Callable[..., HookedPlanhat]) -> None:
    server = planhat()
    config = config_for(server)
    catalog = TapPlanhat(config=config, parse_env_config=False).catalog_dict
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            item["metadata"]["selected"] = True

    run = run_with(config, catalog)

    assert all("select" not in query for model in STREAMS for query in server.lists(model))
    assert any("owner" in record for record in run.records("companies"))


def test_the_company_link_cannot_be_deselected(planhat: Callable[..., HookedPlanhat]) -> None:
    config = config_for(planhat())
    catalog = TapPlanhat(config=config, parse_env_config=False).catalog_dict
    inclusion = {
        (entry["tap_stream_id"], tuple(item["breadcrumb"])): item["metadata"].get("inclusion")
        for entry in catalog["streams"]
        for item in entry["metadata"]
    }
    assert inclusion[("conversations", ("properties", "companyId"))] == "automatic"
    assert inclusion[("nps", ("properties", "cId"))] == "automatic"
    assert inclusion[("conversations", ("properties", "subject"))] == "available"
