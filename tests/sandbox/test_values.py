"""The tenant sends the value shapes real Planhat sends, and hostile ones when asked."""

from __future__ import annotations

import json
import re
from datetime import datetime

import pytest

from sandbox.generator import Tenant, generate_tenant
from sandbox.values import DATE_FIELDS, NUMBER_FIELDS, SHAPES, json_type

SIZE = {"seed": 42, "companies": 120, "large_company_bytes": 0}
KEYS = {"_id", "companyId", "cId", "companyIds", "updatedAt", "updateDate", "lastUpdated"}
"""What the emulator and an incremental sync key on: never rewritten."""
ISO = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}"


@pytest.fixture(scope="module")
def tenant() -> Tenant:
    return generate_tenant(**SIZE)


@pytest.fixture(scope="module")
def clean() -> Tenant:
    return generate_tenant(**SIZE, value_shapes={})


def pairs(tenant: Tenant, clean: Tenant, fields: dict[str, tuple[str, ...]]) -> list[tuple]:
    """(sent, clean) for every value of `fields` the clean tenant holds."""
    return [
        (sent[field], original[field])
        for model, names in fields.items()
        for sent, original in zip(tenant[model], clean[model], strict=True)
        for field in names
        if field in original
    ]


def shape_of(value: object) -> str:
    if value == "":
        return "empty"
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\d", value):
        return "date-only"
    if isinstance(value, str) and re.fullmatch(ISO + r"[+-]\d\d:\d\d", value):
        return "offset"
    if isinstance(value, str) and re.fullmatch(ISO + "Z", value):
        return "clean date"
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?", value):
        return "numeric-string"
    return "number" if json_type(value) == "number" else "other"


def test_next_touch_is_epoch_milliseconds_and_last_touch_an_iso_date(
    tenant: Tenant, clean: Tenant
) -> None:
    companies = clean["companies"]
    next_touches = [c["nextTouch"] for c in companies if "nextTouch" in c]
    last_touches = [c["lastTouch"] for c in companies if "lastTouch" in c]

    assert 0 < len(next_touches) < len(companies)
    assert all(type(n) is int and 1.7e12 < n < 1.8e12 for n in next_touches)
    assert next_touches == [c["nextTouch"] for c in tenant["companies"] if "nextTouch" in c]
    assert len(last_touches) > len(companies) / 2
    assert all(re.fullmatch(ISO + "Z", t) for t in last_touches)
    assert all(re.fullmatch(ISO + "Z", c["lastActive"]) for c in companies if "lastActive" in c)


def test_each_odd_shape_takes_its_share_of_every_models_dates(
    tenant: Tenant, clean: Tenant
) -> None:
    for model, fields in DATE_FIELDS.items():
        sent = [shape_of(s) for s, _ in pairs(tenant, clean, {model: fields})]
        for shape in ("empty", "date-only", "offset"):
            assert sent.count(shape) == round(SHAPES[shape] * len(sent)) > 0, (model, shape)
        assert set(sent) == {"empty", "date-only", "offset", "clean date"}, model


def test_a_share_of_numbers_are_numeric_strings_of_the_same_value(
    tenant: Tenant, clean: Tenant
) -> None:
    for model, fields in NUMBER_FIELDS.items():
        sent = pairs(tenant, clean, {model: fields})
        strings = [(s, c) for s, c in sent if isinstance(s, str)]
        assert len(strings) == round(SHAPES["numeric-string"] * len(sent)) > 0, model
        assert all(float(s) == c for s, c in strings), model
        assert {shape_of(s) for s, _ in strings} == {"numeric-string"}, model


def test_odd_dates_name_the_same_day_or_moment_as_the_clean_ones(
    tenant: Tenant, clean: Tenant
) -> None:
    for sent, original in pairs(tenant, clean, DATE_FIELDS):
        if shape_of(sent) == "date-only":
            assert sent == original[:10]
        elif shape_of(sent) == "offset":
            assert not sent.endswith("+00:00")
            assert datetime.fromisoformat(sent) == datetime.fromisoformat(original)


def test_keys_links_and_timestamps_keep_their_clean_shape(tenant: Tenant, clean: Tenant) -> None:
    for model, records in tenant.items():
        for sent, original in zip(records, clean[model], strict=True):
            for field in {*KEYS, "createdAt"} & original.keys():
                assert sent[field] == original[field], (model, field)
            assert set(sent) == set(original)


def test_a_share_of_end_users_carry_last_active(tenant: Tenant) -> None:
    endusers = tenant["endusers"]
    active = [e for e in endusers if "lastActive" in e]

    assert len(endusers) / 4 < len(active) < len(endusers) / 2


def test_the_shapes_are_the_same_for_the_same_seed() -> None:
    first = json.dumps(generate_tenant(seed=3, companies=40, large_company_bytes=0))
    other = generate_tenant(seed=4, companies=40, large_company_bytes=0)

    assert first == json.dumps(generate_tenant(seed=3, companies=40, large_company_bytes=0))
    assert first != json.dumps(other)


def test_no_value_shapes_send_every_value_clean(clean: Tenant) -> None:
    shapes = {shape_of(v) for v, _ in pairs(clean, clean, DATE_FIELDS)}
    numbers = {shape_of(v) for v, _ in pairs(clean, clean, NUMBER_FIELDS)}

    assert shapes == {"clean date"}
    assert numbers == {"number"}


def test_value_shapes_set_each_share() -> None:
    every_date_empty = generate_tenant(**SIZE, value_shapes={"empty": 1.0})

    assert {v for v, _ in pairs(every_date_empty, every_date_empty, DATE_FIELDS)} == {""}
    assert {shape_of(v) for v, _ in pairs(every_date_empty, every_date_empty, NUMBER_FIELDS)} == {
        "number"
    }


HOSTILE = 0.2


@pytest.fixture(scope="module")
def hostile() -> Tenant:
    return generate_tenant(**SIZE, hostile_share=HOSTILE)


def changed(hostile: Tenant, tenant: Tenant, model: str) -> list[tuple[str, object, object]]:
    """(field, hostile value, default value) of every value whose JSON type changed."""
    return [
        (field, sent[field], original[field])
        for sent, original in zip(hostile[model], tenant[model], strict=True)
        for field in original
        if json_type(sent[field]) != json_type(original[field])
    ]


def test_hostile_values_replace_their_share_of_every_model_with_other_types(
    hostile: Tenant, tenant: Tenant
) -> None:
    for model, records in tenant.items():
        values = sum(len(set(r) - KEYS) for r in records)
        assert len(changed(hostile, tenant, model)) == round(HOSTILE * values) > 0, model
        assert [set(r) for r in hostile[model]] == [set(r) for r in records], model
    replacements = {json_type(new) for m in tenant for _, new, _ in changed(hostile, tenant, m)}
    assert replacements == {"null", "boolean", "number", "string", "object", "array"}


def test_hostile_values_never_touch_ids_company_links_or_change_fields(
    hostile: Tenant, tenant: Tenant
) -> None:
    for model, records in tenant.items():
        for sent, original in zip(hostile[model], records, strict=True):
            assert {k: sent[k] for k in KEYS & set(original)} == {
                k: original[k] for k in KEYS & set(original)
            }, model
        assert not any(field in KEYS for field, _, _ in changed(hostile, tenant, model))


def test_hostile_values_are_the_same_for_the_same_seed(hostile: Tenant) -> None:
    again = generate_tenant(**SIZE, hostile_share=HOSTILE)
    other = generate_tenant(**{**SIZE, "seed": 43}, hostile_share=HOSTILE)

    assert json.dumps(again) == json.dumps(hostile)
    assert [c["name"] for c in other["companies"]] != [c["name"] for c in hostile["companies"]]


def test_a_hostile_share_of_one_changes_every_non_key_value(tenant: Tenant) -> None:
    everything = generate_tenant(**SIZE, hostile_share=1.0)

    for model, records in tenant.items():
        assert len(changed(everything, tenant, model)) == sum(len(set(r) - KEYS) for r in records)


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"value_shapes": {"blank": 0.1}}, "value_shapes: unknown shape 'blank'"),
        ({"value_shapes": {"offset": -0.1}}, "value_shapes['offset'] must be a share"),
        (
            {"value_shapes": {"empty": 0.5, "date-only": 0.3, "offset": 0.3}},
            "add up to more than 1",
        ),
        ({"hostile_share": 1.5}, "hostile_share must be a share between 0 and 1"),
    ],
)
def test_bad_shares_are_refused_clearly(settings: dict, complaint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        generate_tenant(companies=3, **settings)
