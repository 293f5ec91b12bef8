"""Values in their declared types: Planhat's shapes (planhat-api.md §11.1) never stop a sync."""

from __future__ import annotations

import logging
from decimal import Decimal

import jsonschema
import pytest
from tap_planhat import schemas
from tap_planhat.incremental import parse_timestamp
from tap_planhat.values import RecordReader

from tests.tap.support import STREAMS, config_for, run_tap, small_tenant

ONE_FORM = "2024-01-04T09:57:16.756Z"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-01-04T09:57:16.756Z", ONE_FORM),
        ("2024-01-04T10:57:16.756+01:00", ONE_FORM),
        ("2024-01-04T09:57:16.756", ONE_FORM),  # no offset: UTC
        ("2024-01-04T09:57:16.756123Z", ONE_FORM),  # Planhat keeps milliseconds
        ("2024-01-04T09:57:16Z", "2024-01-04T09:57:16.000Z"),
        ("2024-01-04", "2024-01-04T00:00:00.000Z"),
        (1704362236756, ONE_FORM),  # epoch milliseconds
        (Decimal("1704362236756.0"), ONE_FORM),
        ("1704362236756", ONE_FORM),
        (19726, "2024-01-04T00:00:00.000Z"),  # days since 1970 (invoices)
        ("", None),
        (None, None),
    ],
)
def test_every_date_shape_becomes_the_one_form(value, expected):
    record = RecordReader(schemas.COMPANY).read({"_id": "c1", "nextTouch": value})
    assert record["nextTouch"] == expected


def test_numeric_strings_become_numbers_and_numbers_strings():
    record = RecordReader(schemas.COMPANY).read(
        {"_id": "c1", "mrr": "1234.50", "__v": "3", "name": 42, "tags": ["a", 7], "owner": 9}
    )
    assert record["mrr"] == Decimal("1234.50")
    assert isinstance(record["mrr"], Decimal)
    assert record["__v"] == 3
    assert isinstance(record["__v"], int)
    assert record["name"] == "42"
    assert record["tags"] == ["a", "7"]
    assert record["owner"] == "9"  # an id, or the object Planhat expands it to


def test_booleans_from_true_and_false_strings_only():
    reader = RecordReader(schemas.CONVERSATION)
    assert reader.read({"_id": "v", "starred": "true", "pinned": "False"}) == {
        "_id": "v",
        "starred": True,
        "pinned": False,
    }
    assert reader.read({"_id": "v", "starred": "yes"})["starred"] is None


def test_unreadable_values_become_null_reported_once_per_field_without_the_value(caplog):
    secret = "sk-live-do-not-log-me"
    reader = RecordReader(schemas.COMPANY)
    for n in range(5):
        reader.read({"_id": f"c{n}", "mrr": secret, "phaseSince": secret, "tags": [{"x": secret}]})
    reader.read({"_id": "c5", "mrr": "12"})

    with caplog.at_level(logging.INFO):
        reader.report.log(logging.getLogger("test"), "companies")

    lines = {(r.levelno, r.getMessage()) for r in caplog.records}
    assert lines == {
        (
            logging.WARNING,
            "Stream 'companies': field 'mrr': 5 string value(s) not readable as number, "
            "emitted as null (first in record _id c0)",
        ),
        (
            logging.WARNING,
            "Stream 'companies': field 'phaseSince': 5 string value(s) not readable as "
            "date-time, emitted as null (first in record _id c0)",
        ),
        (
            logging.WARNING,
            "Stream 'companies': field 'tags[]': 5 object value(s) not readable as string, "
            "left out of the list (first in record _id c0)",
        ),
        (
            logging.INFO,
            "Stream 'companies': field 'mrr': 1 string value(s) converted to number "
            "(first in record _id c5)",
        ),
    }
    assert secret not in caplog.text


def test_values_of_several_kinds_in_one_field_make_one_line(caplog):
    reader = RecordReader(schemas.COMPANY)
    for n, odd in enumerate([[1], [2], {"a": 1}, True]):
        reader.read({"_id": f"c{n}", "renewalDate": odd})

    with caplog.at_level(logging.INFO):
        reader.report.log(logging.getLogger("test"), "companies")

    assert [r.getMessage() for r in caplog.records] == [
        "Stream 'companies': field 'renewalDate': 4 values (2 array, 1 boolean, 1 object) "
        "not readable as date-time, emitted as null (first in record _id c0)"
    ]


HOSTILE = {
    "name": {"first": "object where a string is"},
    "mrr": "not a number",
    "arr": "96000.5",
    "h": True,
    "tags": "a lone string",
    "domains": [1, None, {"a": 1}, "x.example"],
    "owner": ["a", "list"],
    "nextTouch": 1702122747772,
    "lastTouch": "",
    "lastActive": "last week",
    "customerFrom": {"$date": "2024-01-04"},
    "usage": "a string where an object is",
    "custom": ["a list"],
    "lastActivities": {"anything": ["goes"]},
    "orgLevel": 2,
    "__v": 1.5,
    "lastTouchByType": None,
    "segment": {"undeclared": True},
}


def test_hostile_values_still_validate_against_the_tap_own_schemas(planhat, caplog):
    """The property target-postgres and target-dust rely on: every record fits its schema."""
    tenant = small_tenant(value_shapes={})
    for company in tenant["companies"][:3]:
        company.update(HOSTILE)
    tenant["endusers"][0].update({"lastActive": "2024-01-04", "nps": "9", "tags": "vip"})
    tenant["conversations"][0].update({"users": "u1", "date": 1702122747772, "starred": 1})
    server = planhat(tenant)

    with caplog.at_level(logging.INFO):
        run = run_tap(config_for(server))

    for stream in STREAMS:
        validator = jsonschema.Draft202012Validator(run.schema(stream))
        for record in run.records(stream):
            validator.validate(record)
        assert len(run.records(stream)) == len(server.records(stream)), stream
    company = next(r for r in run.records("companies") if r["_id"] == tenant["companies"][0]["_id"])
    assert company["nextTouch"] == "2023-12-09T11:52:27.772Z"
    assert company["lastTouch"] is None
    assert company["arr"] == Decimal("96000.5")
    assert company["tags"] == ["a lone string"]
    assert company["domains"] == ["1", "x.example"]
    assert company["segment"] == {"undeclared": True}  # undeclared: kept as it came
    assert company["orgLevel"] == "2"
    reports = [r.getMessage() for r in caplog.records if "field 'mrr'" in r.getMessage()]
    assert reports == [
        "Stream 'companies': field 'mrr': 3 string value(s) not readable as number, emitted "
        f"as null (first in record _id {tenant['companies'][0]['_id']})"
    ]


def test_undeclared_fields_reach_the_output(planhat):
    tenant = small_tenant()
    enduser = tenant["endusers"][0]
    enduser["lastActive"] = "2025-05-01T10:00:00.000Z"  # not in the end user schema
    enduser["custom"] = {"Renewal Owner": {"nested": [1, 2]}}
    server = planhat(tenant)

    run = run_tap(config_for(server))

    emitted = next(r for r in run.records("endusers") if r["_id"] == enduser["_id"])
    assert emitted["lastActive"] == "2025-05-01T10:00:00.000Z"
    assert emitted["custom"] == {"Renewal Owner": {"nested": [1, 2]}}


def test_epoch_millisecond_updated_at_is_still_incremental(planhat):
    tenant = small_tenant()
    base = 1_735_689_600_000  # 2025-01-01T00:00:00Z
    for n, company in enumerate(tenant["companies"]):
        company["updatedAt"] = base + n * 60_000
    server = planhat(tenant)
    newest = parse_timestamp(base + 11 * 60_000)

    first = run_tap(config_for(server))
    assert len(first.records("companies")) == 12
    assert first.state["bookmarks"]["companies"]["replication_key_value"] == (
        "2025-01-01T00:11:00.000Z"
    )
    assert parse_timestamp(first.state["bookmarks"]["companies"]["replication_key_value"]) == (
        newest
    )
    server.log.clear()

    second = run_tap(config_for(server), state=first.state)
    assert second.records("companies") == []
    assert server.log.count(path="/companies") == 1

    changed = tenant["companies"][3]["_id"]
    server.update("companies", changed, {"name": "Renamed"})
    third = run_tap(config_for(server), state=second.state)
    assert third.ids("companies") == [changed]
