"""The Planhat emulator behaves like planhat-api.md says Planhat does, traps included."""

from __future__ import annotations

import base64
import json
import re
import time
from typing import TYPE_CHECKING

import pytest
import requests

from sandbox.common import Faults
from sandbox.generator import Tenant, generate_tenant
from sandbox.planhat import PLANHAT_TOKEN, PlanhatSandbox
from sandbox.values import json_type

if TYPE_CHECKING:
    from collections.abc import Iterator

AUTH = {"Authorization": f"Bearer {PLANHAT_TOKEN}"}


@pytest.fixture(scope="module")
def tenant() -> Tenant:
    return generate_tenant(seed=7, companies=30, large_company_bytes=0)


@pytest.fixture
def planhat(tenant: Tenant) -> Iterator[PlanhatSandbox]:
    with PlanhatSandbox(tenant, requests_per_minute=0) as server:
        yield server


def get(server: PlanhatSandbox, path: str, **params: object) -> requests.Response:
    return requests.get(server.url + path, params=params, headers=AUTH, timeout=5)


def test_lists_are_bare_arrays_with_the_model_default_page(planhat: PlanhatSandbox) -> None:
    conversations = get(planhat, "/conversations").json()
    companies = get(planhat, "/companies").json()

    assert isinstance(conversations, list)
    assert len(conversations) == 30  # Planhat's conversation default, not the tenant size
    assert len(companies) == 30
    assert [c["_id"] for c in companies] == [c["_id"] for c in planhat.records("companies")]


def test_offset_paging_returns_every_record_once_in_insertion_order(
    planhat: PlanhatSandbox,
) -> None:
    seen, offset = [], 0
    while page := get(planhat, "/conversations", limit=17, offset=offset).json():
        seen += [c["_id"] for c in page]
        offset += len(page)

    assert seen == [c["_id"] for c in planhat.records("conversations")]


def test_a_limit_over_the_model_maximum_is_capped_silently() -> None:
    tenant = {"conversations": [{"_id": f"{i:024x}", "companyId": "c"} for i in range(2100)]}
    with PlanhatSandbox(tenant, requests_per_minute=0) as server:
        first = get(server, "/conversations", limit=5000)
        rest = get(server, "/conversations", limit=5000, offset=2000).json()

    assert first.status_code == 200
    assert len(first.json()) == 2000  # a client stopping on len < limit would end here
    assert len(rest) == 100


@pytest.mark.parametrize("limit", ["0", "-1", "ten"])
def test_a_bad_limit_is_a_clear_400(planhat: PlanhatSandbox, limit: str) -> None:
    response = get(planhat, "/companies", limit=limit)

    assert response.status_code == 400
    assert "limit" in response.json()["message"]


def test_sort_by_any_field_ascending_and_descending(planhat: PlanhatSandbox) -> None:
    ascending = [c["mrr"] for c in get(planhat, "/companies", sort="mrr").json()]
    descending = [c["name"] for c in get(planhat, "/companies", sort="-name").json()]
    by_id = [c["_id"] for c in get(planhat, "/companies", sort="_id", limit=5000).json()]

    # Numbers first, then the numeric strings Planhat sometimes sends (MongoDB's type order).
    assert ascending == sorted(ascending, key=lambda mrr: (isinstance(mrr, str), mrr))
    assert {type(mrr) for mrr in ascending} > {str}
    assert descending == sorted(descending, reverse=True)
    assert by_id == sorted(by_id)
    assert by_id != [c["_id"] for c in planhat.records("companies")]


def test_sort_puts_missing_values_first_like_mongodb(planhat: PlanhatSandbox) -> None:
    projects = get(planhat, "/projects", sort="updatedAt", limit=2000).json()
    stamps = [p.get("updatedAt") for p in projects]
    missing = stamps.count(None)

    assert 0 < missing < len(stamps)
    assert stamps[:missing] == [None] * missing
    assert stamps[missing:] == sorted(stamps[missing:])


def test_select_returns_only_the_named_fields_and_id(planhat: PlanhatSandbox) -> None:
    companies = get(planhat, "/companies", select="name, mrr").json()

    assert {frozenset(c) for c in companies} == {frozenset({"_id", "name", "mrr"})}


def test_company_filters_use_companyid_and_cid_on_nps(planhat: PlanhatSandbox) -> None:
    first, second = (c["_id"] for c in planhat.records("companies")[1:3])
    wanted = {first, second}

    assets = get(planhat, "/assets", companyId=f"{first},{second}", limit=2000).json()
    nps = get(planhat, "/nps", cId=first, limit=10000).json()
    nps_by_company_id = get(planhat, "/nps", companyId=first, limit=10000).json()

    assert assets == [a for a in planhat.records("assets") if a["companyId"] in wanted]
    assert nps == [n for n in planhat.records("nps") if n["cId"] == first]
    # The original script filtered NPS by `companyId`: Planhat ignores it and sends everything.
    assert len(nps_by_company_id) == len(planhat.records("nps"))


def test_archived_endusers_are_left_out_of_lists(planhat: PlanhatSandbox) -> None:
    stored = planhat.tenant["endusers"]
    listed = get(planhat, "/endusers", limit=2000).json()
    archived = next(e for e in stored if e["archived"])

    assert listed == [e for e in stored if not e["archived"]]
    assert listed == planhat.records("endusers")
    assert len(listed) < len(stored)
    assert get(planhat, f"/endusers/{archived['_id']}").json() == archived


def test_get_one_record_by_id(planhat: PlanhatSandbox) -> None:
    company = planhat.records("companies")[5]

    assert get(planhat, f"/companies/{company['_id']}").json() == company
    assert get(planhat, "/companies/000000000000000000000000").status_code == 404
    assert get(planhat, "/campaigns").status_code == 404


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token"},
        {"Authorization": PLANHAT_TOKEN},
        {"Authorization": "Basic !!!"},
    ],
)
def test_a_missing_or_wrong_token_is_401(planhat: PlanhatSandbox, headers: dict) -> None:
    response = requests.get(planhat.url + "/companies", headers=headers, timeout=5)

    assert response.status_code == 401
    assert response.json() == {"message": "Unauthorized request"}


def test_basic_auth_with_the_token_as_user_is_accepted(planhat: PlanhatSandbox) -> None:
    basic = base64.b64encode(f"{PLANHAT_TOKEN}:".encode()).decode()
    response = requests.get(
        planhat.url + "/users", headers={"Authorization": f"Basic {basic}"}, timeout=5
    )

    assert response.status_code == 200


def test_a_model_without_permission_is_403_naming_it(tenant: Tenant) -> None:
    with PlanhatSandbox(tenant, forbidden=["assets"], requests_per_minute=0) as server:
        assets = get(server, "/assets")
        companies = get(server, "/companies")

    assert assets.status_code == 403
    assert "m_asset" in assets.json()["message"]
    assert companies.status_code == 200


def test_forbidding_an_unknown_model_is_refused() -> None:
    with pytest.raises(ValueError, match="asset"):
        PlanhatSandbox(forbidden=["asset"])


def test_over_the_quota_is_429_with_rate_headers_and_no_retry_after(tenant: Tenant) -> None:
    with PlanhatSandbox(tenant, requests_per_minute=3) as server:
        answers = [get(server, "/users") for _ in range(5)]

    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert [a.headers["X-Rate-Limit-Remaining"] for a in answers] == ["2", "1", "0", "0", "0"]
    assert {a.headers["X-Rate-Limit-Limit"] for a in answers} == {"3"}
    assert all("Retry-After" not in a.headers for a in answers)
    assert answers[-1].json() == {"message": "Too many requests"}


def test_scheduled_faults_answer_in_planhat_style(tenant: Tenant) -> None:
    faults = Faults(schedule={1: "503", 2: "500", 3: "502", 4: "429", 5: "truncate"})
    with PlanhatSandbox(tenant, requests_per_minute=0, faults=faults) as server:
        answers = [get(server, "/companies") for _ in range(6)]

    assert [a.status_code for a in answers] == [503, 500, 502, 429, 200, 200]
    assert answers[0].json() == {"message": "Service unavailable"}
    assert "Retry-After" not in answers[3].headers
    with pytest.raises(json.JSONDecodeError):
        json.loads(answers[4].content)
    assert len(answers[5].json()) == 30


def test_dropped_connections_and_slow_answers_fail_the_client(tenant: Tenant) -> None:
    faults = Faults(schedule={1: "drop", 2: "slow"}, slow_seconds=0.5)
    with PlanhatSandbox(tenant, requests_per_minute=0, faults=faults) as server:
        with pytest.raises(requests.ConnectionError):
            get(server, "/companies")
        with pytest.raises(requests.Timeout):
            requests.get(server.url + "/companies", headers=AUTH, timeout=0.1)
        assert get(server, "/companies").status_code == 200


def test_a_fault_share_is_repeatable_for_a_seed(tenant: Tenant) -> None:
    def statuses() -> list[int]:
        faults = Faults(rate=0.5, seed=3)
        with PlanhatSandbox(tenant, requests_per_minute=0, faults=faults) as server:
            return [get(server, "/users").status_code for _ in range(20)]

    first = statuses()

    assert first == statuses()
    assert 200 in first
    assert set(first) - {200} <= {500, 502, 503, 429}
    assert len(set(first)) > 2


def test_python_mutations_show_in_the_next_listing() -> None:
    tenant = generate_tenant(seed=1, companies=5, large_company_bytes=0)
    with PlanhatSandbox(tenant, requests_per_minute=0) as server:
        before = {c["_id"]: c for c in get(server, "/companies").json()}
        target = next(iter(before.values()))
        changed = server.update("companies", target["_id"], {"mrr": 123})
        untouched = server.update("companies", changed["_id"], {})
        created = server.create("companies", {"name": "Nouvelle Société"})
        server.delete("companies", list(before)[-1])
        after = {c["_id"]: c for c in get(server, "/companies").json()}

    assert after[target["_id"]]["mrr"] == 123
    assert changed["updatedAt"] > target["updatedAt"]
    assert untouched["updatedAt"] > changed["updatedAt"]  # Planhat bumps it even with no change
    assert list(after)[-1] == created["_id"]
    assert after[created["_id"]]["name"] == "Nouvelle Société"
    assert list(before)[-1] not in after
    assert len(after) == len(before)
    assert [c["_id"] for c in tenant["companies"]] == list(after)  # the tenant is the live store


def test_mutating_what_does_not_exist_is_a_clear_error() -> None:
    with PlanhatSandbox(requests_per_minute=0) as server:
        with pytest.raises(KeyError, match="no companies record"):
            server.update("companies", "nope", {"mrr": 1})
        with pytest.raises(KeyError, match="unknown model"):
            server.create("company", {})
        record = server.create("companies", {"name": "A"})
        with pytest.raises(ValueError, match="_id"):
            server.update("companies", record["_id"], {"_id": "other"})


def test_http_mutations_create_update_and_delete() -> None:
    with PlanhatSandbox(requests_per_minute=0) as server:
        url = server.url + "/conversations"
        created = requests.post(
            url, json={"companyId": "c1", "subject": "Hej"}, headers=AUTH, timeout=5
        ).json()
        updated = requests.put(
            f"{url}/{created['_id']}", json={"subject": "Hej då"}, headers=AUTH, timeout=5
        ).json()
        listed = get(server, "/conversations").json()
        deleted = requests.delete(f"{url}/{created['_id']}", headers=AUTH, timeout=5)
        deleted_again = requests.delete(f"{url}/{created['_id']}", headers=AUTH, timeout=5)
        not_json = requests.post(url, data="{", headers=AUTH, timeout=5)

    assert listed == [updated]
    assert updated["subject"] == "Hej då"
    assert updated["updatedAt"] > created["updatedAt"]
    assert deleted.status_code == 200
    assert deleted_again.status_code == 404
    assert not_json.status_code == 400
    assert server.records("conversations") == []


def test_a_deleted_record_leaves_lists_answers_404_and_restores_with_its_id(
    planhat: PlanhatSandbox,
) -> None:
    company = planhat.records("companies")[0]
    url = f"{planhat.url}/companies/{company['_id']}"
    assert requests.delete(url, headers=AUTH, timeout=5).status_code == 200

    listed = {r["_id"] for r in get(planhat, "/companies", limit=5000).json()}
    assert company["_id"] not in listed
    assert requests.get(url, headers=AUTH, timeout=5).status_code == 404

    restored = planhat.restore("companies", company["_id"])
    assert restored == company  # as it was deleted: the same _id, updatedAt untouched
    assert requests.get(url, headers=AUTH, timeout=5).json() == company
    assert company["_id"] in {r["_id"] for r in get(planhat, "/companies", limit=5000).json()}
    with pytest.raises(KeyError):
        planhat.restore("companies", company["_id"])  # no longer in the trash bin

    planhat.delete("companies", company["_id"])
    touched = planhat.restore("companies", company["_id"], touch=True)
    assert touched["updatedAt"] > company["updatedAt"]


def test_the_request_log_counts_paths_statuses_and_bytes(tenant: Tenant) -> None:
    with PlanhatSandbox(tenant, forbidden=["assets"], requests_per_minute=0) as server:
        body = get(server, "/companies", limit=10).content
        get(server, "/companies", limit=10, offset=10)
        get(server, "/assets")

    log = server.log
    assert log.count(path="/companies") == 2
    assert log.count(status=403) == 1
    assert log.entries(path="/companies")[1].query == {"limit": ["10"], "offset": ["10"]}
    assert log.entries(path="/companies")[0].bytes == len(body)


# Switches for what the reference leaves open (planhat-api.md §10) ----------------------


def test_rate_limit_headers_can_be_left_out(tenant: Tenant) -> None:
    with PlanhatSandbox(tenant, requests_per_minute=1, rate_limit_headers=False) as server:
        answers = [get(server, "/users") for _ in range(2)]

    assert [a.status_code for a in answers] == [200, 429]
    assert not any(h.startswith("X-Rate-Limit") for a in answers for h in a.headers)


def test_retry_after_says_when_a_slot_frees(tenant: Tenant) -> None:
    faults = Faults(schedule={3: "429"})
    with PlanhatSandbox(
        tenant, requests_per_minute=1, rate_window=30, retry_after=True, faults=faults
    ) as server:
        answers = [get(server, "/users") for _ in range(3)]

    assert [a.status_code for a in answers] == [200, 429, 429]
    assert "Retry-After" not in answers[0].headers
    assert 1 <= int(answers[1].headers["Retry-After"]) <= 30
    assert answers[2].headers["Retry-After"] == "1"  # an injected 429 knows no window


def test_the_quota_window_frees_slots_as_it_slides(tenant: Tenant) -> None:
    with PlanhatSandbox(tenant, requests_per_minute=1, rate_window=0.2) as server:
        first, second = get(server, "/users"), get(server, "/users")
        time.sleep(0.3)
        third = get(server, "/users")

    assert [first.status_code, second.status_code, third.status_code] == [200, 429, 200]


def test_sort_can_be_ignored_so_clients_must_detect_it(tenant: Tenant) -> None:
    with PlanhatSandbox(tenant, requests_per_minute=0, honour_sort=False) as server:
        listed = [c["_id"] for c in get(server, "/companies", sort="_id", limit=5000).json()]

    inserted = [c["_id"] for c in server.records("companies")]
    assert listed == inserted
    assert listed != sorted(listed)


def test_nps_can_filter_on_company_id_and_ignore_cid(tenant: Tenant) -> None:
    with PlanhatSandbox(tenant, requests_per_minute=0, nps_company_param="companyId") as server:
        company = next(n["cId"] for n in server.records("nps"))
        by_company_id = get(server, "/nps", companyId=company, limit=10000).json()
        by_cid = get(server, "/nps", cId=company, limit=10000).json()

    assert by_company_id == [n for n in server.records("nps") if n["cId"] == company]
    assert 0 < len(by_company_id) < len(by_cid) == len(server.records("nps"))


def test_a_limit_over_the_maximum_can_be_rejected_naming_the_maximum(tenant: Tenant) -> None:
    with PlanhatSandbox(tenant, requests_per_minute=0, over_limit="reject") as server:
        over = get(server, "/conversations", limit=2001)
        at_max = get(server, "/conversations", limit=2000)
        default = get(server, "/conversations")

    assert over.status_code == 400
    assert "2000" in over.json()["message"]
    assert at_max.status_code == 200
    assert len(at_max.json()) == len(tenant["conversations"])
    assert len(default.json()) == 30


@pytest.mark.parametrize("over_limit", ["cap", "reject"])
def test_max_limits_override_a_model_maximum(over_limit: str) -> None:
    tenant = generate_tenant(seed=2, companies=5, projects=120, large_company_bytes=0)
    with PlanhatSandbox(
        tenant, requests_per_minute=0, max_limits={"projects": 50}, over_limit=over_limit
    ) as server:
        default = get(server, "/projects")
        at_max = get(server, "/projects", limit=50)
        over = get(server, "/projects", limit=51)
        assets = get(server, "/assets", limit=2000)

    assert len(default.json()) == 50  # the default page (100) is capped to the maximum too
    assert len(at_max.json()) == 50
    if over_limit == "cap":
        assert len(over.json()) == 50
    else:
        assert over.status_code == 400
        assert "at most 50" in over.json()["message"]
    assert assets.status_code == 200


@pytest.mark.parametrize(
    ("settings", "complaint"),
    [
        ({"nps_company_param": "cid"}, "nps_company_param must be cId or companyId"),
        ({"over_limit": "clip"}, "over_limit must be cap or reject"),
        ({"max_limits": {"project": 10}}, "unknown model 'project'"),
        ({"max_limits": {"projects": 0}}, "max_limits['projects'] must be a positive"),
        ({"requests_per_minute": -1}, "requests_per_minute"),
        ({"forbidden": ["asset"]}, "unknown model 'asset'"),
        ({"undated_writes": ["projects", "ticket"]}, "unknown model 'ticket'"),
    ],
)
def test_bad_switch_values_are_refused_clearly(settings: dict, complaint: str) -> None:
    with pytest.raises(ValueError, match=re.escape(complaint)):
        PlanhatSandbox(**settings)


@pytest.fixture
def undated_writes() -> Iterator[PlanhatSandbox]:
    """A fresh tenant (it gets changed) whose project and conversation writes add no stamps."""
    fresh = generate_tenant(seed=4, companies=10, large_company_bytes=0)
    with PlanhatSandbox(
        fresh, requests_per_minute=0, undated_writes={"projects", "conversations"}
    ) as server:
        yield server


def put(server: PlanhatSandbox, path: str, changes: dict) -> requests.Response:
    return requests.put(server.url + path, json=changes, headers=AUTH, timeout=5)


def test_undated_writes_leave_an_undated_project_undated(undated_writes: PlanhatSandbox) -> None:
    server = undated_writes
    first, second = [p for p in server.records("projects") if "updatedAt" not in p][:2]
    by_python = server.update("projects", first["_id"], {"mrr": 7})
    by_http = put(server, f"/projects/{second['_id']}", {"name": "Relaunch"}).json()
    listed = get(server, "/projects", sort="-updatedAt", limit=2000).json()
    undated_tail = [p["_id"] for p in listed if "updatedAt" not in p]

    for record in (by_python, by_http, server.get("projects", first["_id"])):
        assert not {"createdAt", "updatedAt", "updateDate"} & record.keys()
    assert (by_python["mrr"], by_http["name"]) == (7, "Relaunch")
    assert "updatedAt" in listed[0]
    assert [p["_id"] for p in listed[-len(undated_tail) :]] == undated_tail
    assert {first["_id"], second["_id"]} <= set(undated_tail)


def test_undated_writes_bump_a_tickets_update_date_only(undated_writes: PlanhatSandbox) -> None:
    server = undated_writes
    ticket = next(c for c in server.records("conversations") if "updateDate" in c)
    answer = put(server, f"/conversations/{ticket['_id']}", {"subject": "Reopened"}).json()
    listed = get(server, "/conversations", sort="-updateDate", limit=2000).json()

    assert "updatedAt" not in ticket
    assert answer["updateDate"] > ticket["updateDate"]
    assert "updatedAt" not in answer
    assert "createdAt" not in answer
    assert listed[0] == answer == server.get("conversations", ticket["_id"])


def test_undated_writes_still_bump_a_set_updated_at(undated_writes: PlanhatSandbox) -> None:
    server = undated_writes
    dated = next(c for c in server.records("conversations") if "updatedAt" in c)
    changed = server.update("conversations", dated["_id"], {"starred": True})
    listed = get(server, "/conversations", sort="-updatedAt", limit=2000).json()

    assert changed["updatedAt"] > dated["updatedAt"]
    assert changed["createdAt"] == dated["createdAt"]
    assert "updateDate" not in changed
    assert listed[0]["_id"] == dated["_id"]


def test_undated_writes_leave_a_null_updated_at_null() -> None:
    tenant = {"projects": [{"_id": "a" * 24, "name": "Pilot", "updatedAt": None}]}
    with PlanhatSandbox(tenant, requests_per_minute=0, undated_writes=["projects"]) as server:
        changed = server.update("projects", "a" * 24, {"mrr": 1})

    assert changed == {"_id": "a" * 24, "name": "Pilot", "updatedAt": None, "mrr": 1}


def test_undated_writes_create_only_the_stamps_a_record_brings(
    undated_writes: PlanhatSandbox,
) -> None:
    server = undated_writes
    posted = requests.post(
        server.url + "/projects", json={"name": "Pilot"}, headers=AUTH, timeout=5
    ).json()
    newest = get(server, "/projects", sort="-_id").json()[0]
    half_dated = server.create("projects", {"name": "Rollout", "updatedAt": None})
    ticket = server.create("conversations", {"type": "ticket", "updateDate": None})

    assert newest == posted == server.get("projects", posted["_id"])
    assert set(posted) == {"_id", "name"}
    assert abs(int(posted["_id"][:8], 16) - time.time()) < 60  # only the ObjectId dates it
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", half_dated["updatedAt"])
    assert "createdAt" not in half_dated
    assert ticket["updateDate"] > half_dated["updatedAt"]  # the same strictly rising clock
    assert not {"createdAt", "updatedAt"} & ticket.keys()


@pytest.mark.parametrize("undated_writes", [(), ["assets"]])
def test_writes_outside_undated_writes_stamp_created_and_updated_at(
    undated_writes: list[str],
) -> None:
    fresh = generate_tenant(seed=4, companies=10, large_company_bytes=0)
    with PlanhatSandbox(fresh, requests_per_minute=0, undated_writes=undated_writes) as server:
        project = next(p for p in server.records("projects") if "updatedAt" not in p)
        ticket = next(c for c in server.records("conversations") if "updateDate" in c)
        dated_project = put(server, f"/projects/{project['_id']}", {"mrr": 7}).json()
        dated_ticket = server.update("conversations", ticket["_id"], {})
        created = server.create("projects", {"name": "Pilot"})
        newest = get(server, "/projects", sort="-updatedAt").json()[0]

    assert "updatedAt" in dated_project
    assert "createdAt" not in dated_project  # an update stamps `updatedAt` only
    assert dated_ticket["updatedAt"] > dated_project["updatedAt"]
    assert dated_ticket["updateDate"] == ticket["updateDate"]
    assert created["createdAt"] == created["updatedAt"] > dated_ticket["updatedAt"]
    assert newest == created


def test_create_keeps_a_given_id_and_refuses_a_duplicate() -> None:
    with PlanhatSandbox(requests_per_minute=0) as server:
        record = server.create("assets", {"_id": "a" * 24, "name": "Kept"})
        with pytest.raises(ValueError, match="already exists"):
            server.create("assets", {"_id": "a" * 24})

    assert record["_id"] == "a" * 24
    assert record["createdAt"] == record["updatedAt"]
    assert server.records("assets") == [record]


def test_records_are_copies_and_delete_returns_nothing() -> None:
    with PlanhatSandbox(requests_per_minute=0) as server:
        created = server.create("projects", {"name": "Pilot", "custom": {"Lead": "Ann"}})
        server.records("projects")[0]["custom"]["Lead"] = "changed by the caller"
        kept = server.records("projects")
        assert server.delete("projects", created["_id"]) is None

    assert kept == [created]
    assert server.records("projects") == []


def test_a_sorted_listing_follows_changes() -> None:
    fresh = generate_tenant(seed=3, companies=8, large_company_bytes=0)
    with PlanhatSandbox(fresh, requests_per_minute=0) as server:
        before = get(server, "/companies", sort="-mrr").json()
        server.update("companies", before[-1]["_id"], {"mrr": 10**9})
        after = get(server, "/companies", sort="-mrr").json()

    assert after[0]["_id"] == before[-1]["_id"]
    assert [c["mrr"] for c in after] == sorted((c["mrr"] for c in after), reverse=True)


@pytest.fixture(scope="module")
def hostile_tenant() -> Tenant:
    """Every value but ids, company links and change fields of another JSON type."""
    return generate_tenant(seed=7, companies=30, large_company_bytes=0, hostile_share=1.0)


@pytest.fixture
def hostile(hostile_tenant: Tenant) -> Iterator[PlanhatSandbox]:
    with PlanhatSandbox(hostile_tenant, requests_per_minute=0) as server:
        yield server


@pytest.mark.parametrize(
    ("model", "sort"),
    [("companies", "updatedAt"), ("projects", "-updatedAt"), ("conversations", "-updateDate")],
)
def test_a_hostile_tenant_still_sorts_by_its_change_fields(
    hostile: PlanhatSandbox, model: str, sort: str
) -> None:
    listed = get(hostile, f"/{model}", sort=sort, limit=2000).json()
    stamps = [r.get(sort.removeprefix("-")) for r in listed]
    present = [s for s in stamps if s is not None]

    assert len(listed) == len(hostile.records(model))
    assert present
    assert all(isinstance(s, str) for s in present)
    assert present == sorted(present, reverse=sort.startswith("-"))


def test_a_hostile_tenant_sorts_mixed_types_in_mongodb_order(hostile: PlanhatSandbox) -> None:
    names = [c.get("name") for c in get(hostile, "/companies", sort="name").json()]
    order = ["null", "number", "string", "object", "array", "boolean"]
    ranks = [order.index(json_type(n)) for n in names]

    assert len(set(ranks)) > 2
    assert ranks == sorted(ranks)


def test_a_hostile_tenant_still_pages_selects_and_filters(hostile: PlanhatSandbox) -> None:
    company = hostile.records("companies")[2]
    seen, offset = [], 0
    while page := get(hostile, "/assets", limit=7, offset=offset).json():
        seen += page
        offset += len(page)
    selected = get(hostile, "/companies", select="name,mrr", limit=5000).json()
    assets = get(hostile, "/assets", companyId=company["_id"], limit=2000).json()

    assert seen == hostile.records("assets")
    assert selected == [
        {k: v for k, v in c.items() if k in {"_id", "name", "mrr"}}
        for c in hostile.records("companies")
    ]
    assert assets == [a for a in hostile.records("assets") if a["companyId"] == company["_id"]]
    assert get(hostile, f"/companies/{company['_id']}").json() == company
