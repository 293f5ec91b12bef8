"""The Dust sandbox answers like the documents API described in dust-api.md."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
import requests

from sandbox.common import Faults
from sandbox.dust import DUST_API_KEY, DustSandbox

if TYPE_CHECKING:
    from collections.abc import Iterator

AUTH = {"Authorization": f"Bearer {DUST_API_KEY}"}
INVALID_BODY = "Invalid request body: Validation error: "


@pytest.fixture
def dust() -> Iterator[DustSandbox]:
    with DustSandbox() as server:
        yield server


@pytest.fixture
def sandbox_factory() -> Iterator[Any]:
    """Start sandboxes with test-specific settings and stop them all afterwards."""
    started: list[DustSandbox] = []

    def start(**settings: Any) -> DustSandbox:
        server = DustSandbox(**settings).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def url(server: DustSandbox, document_id: str | None = None) -> str:
    base = server.url + server.documents_path
    return base if document_id is None else f"{base}/{quote(document_id, safe='')}"


def upsert(server: DustSandbox, document_id: str, body: Any, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("headers", AUTH)
    return requests.post(url(server, document_id), json=body, timeout=5, **kwargs)


def get(server: DustSandbox, document_id: str | None = None, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("headers", AUTH)
    return requests.get(url(server, document_id), timeout=5, **kwargs)


def delete(server: DustSandbox, document_id: str, **kwargs: Any) -> requests.Response:
    kwargs.setdefault("headers", AUTH)
    return requests.delete(url(server, document_id), timeout=5, **kwargs)


def error(response: requests.Response) -> dict:
    return response.json()["error"]


def assert_error(response: requests.Response, status: int, error_type: str, message: str) -> None:
    assert response.status_code == status, response.text
    assert error(response)["type"] == error_type
    assert error(response)["message"] == message


def leaf(content: str | None, prefix: str | None = None) -> dict:
    return {"prefix": prefix, "content": content, "sections": []}


# --- Request body schema ----------------------------------------------------------------


def test_unknown_keys_are_dropped_silently(dust: DustSandbox) -> None:
    body = {
        "text": "hello",
        "sourceUrl": "https://example.com/a",
        "file_id": "fil_1",
        "section": {**leaf("ignored"), "extra": 1},
    }
    response = upsert(dust, "doc", body)

    assert response.status_code == 200, response.text
    stored = dust.document("doc")
    assert stored["source_url"] is None
    assert set(stored) == {
        "document_id",
        "title",
        "text",
        "section",
        "tags",
        "timestamp",
        "source_url",
        "mime_type",
        "created",
        "upserts",
    }


def test_unknown_keys_inside_sections_are_dropped(dust: DustSandbox) -> None:
    section = {"prefix": "P\n", "content": None, "sections": [{**leaf("c\n"), "note": "x"}]}
    assert upsert(dust, "doc", {"section": section}).status_code == 200
    assert dust.document("doc")["section"] == {
        "prefix": "P\n",
        "content": None,
        "sections": [leaf("c\n")],
    }


def test_wrong_type_is_a_400_with_a_zod_message(dust: DustSandbox) -> None:
    response = upsert(dust, "doc", {"text": "x", "title": 5})
    assert_error(
        response,
        400,
        "invalid_request_error",
        INVALID_BODY + 'Expected string, received number at "title"',
    )
    assert dust.document("doc") is None


def test_every_schema_issue_is_reported_in_schema_order(dust: DustSandbox) -> None:
    body = {"title": 5, "tags": ["ok", 7], "timestamp": "1700000000"}
    response = upsert(dust, "doc", body)
    assert_error(
        response,
        400,
        "invalid_request_error",
        INVALID_BODY + 'Expected number, received string at "timestamp"; '
        'Expected string, received number at "tags[1]"; '
        'Expected string, received number at "title"',
    )


def test_body_must_be_a_json_object(dust: DustSandbox) -> None:
    response = upsert(dust, "doc", ["text", "x"])
    assert_error(
        response, 400, "invalid_request_error", INVALID_BODY + "Expected object, received array"
    )


@pytest.mark.parametrize("missing", ["prefix", "content", "sections"])
def test_nested_section_needs_all_three_keys(dust: DustSandbox, missing: str) -> None:
    child = leaf("c")
    del child[missing]
    body = {"section": {"prefix": None, "content": None, "sections": [child]}}

    response = upsert(dust, "doc", body)

    assert_error(
        response,
        400,
        "invalid_request_error",
        INVALID_BODY + f'Required at "section.sections[0].{missing}"',
    )


def test_section_content_must_be_string_or_null(dust: DustSandbox) -> None:
    response = upsert(dust, "doc", {"section": {"prefix": None, "content": 3, "sections": []}})
    assert error(response)["message"] == (
        INVALID_BODY + 'Expected string, received number at "section.content"'
    )


@pytest.mark.parametrize(
    ("field", "expected"),
    [("light_document_output", "boolean"), ("upsert_context", "object")],
)
def test_optional_but_not_nullable_fields_reject_null(
    dust: DustSandbox, field: str, expected: str
) -> None:
    response = upsert(dust, "doc", {"text": "x", field: None})
    assert_error(
        response,
        400,
        "invalid_request_error",
        INVALID_BODY + f'Expected {expected}, received null at "{field}"',
    )


@pytest.mark.parametrize("context", [{}, {"sync_type": "batch"}])
def test_upsert_context_accepts_known_sync_types(dust: DustSandbox, context: dict) -> None:
    assert upsert(dust, "doc", {"text": "x", "upsert_context": context}).status_code == 200


def test_upsert_context_rejects_unknown_sync_type(dust: DustSandbox) -> None:
    response = upsert(dust, "doc", {"text": "x", "upsert_context": {"sync_type": "full"}})
    assert_error(
        response,
        400,
        "invalid_request_error",
        INVALID_BODY + "Invalid enum value. Expected 'batch' | 'incremental', "
        'received "full" at "upsert_context.sync_type"',
    )


def test_nullable_fields_accept_null(dust: DustSandbox) -> None:
    body = dict.fromkeys(
        ["timestamp", "tags", "parent_id", "parents", "source_url", "async", "mime_type", "title"]
    )
    response = upsert(dust, "doc", {**body, "text": "x", "section": None})
    assert response.status_code == 200, response.text


def test_malformed_json_is_a_400(dust: DustSandbox) -> None:
    response = requests.post(url(dust, "doc"), data=b'{"text": ', headers=AUTH, timeout=5)
    assert_error(
        response,
        400,
        "invalid_request_error",
        "Invalid request body: Malformed JSON in request body",
    )


def test_nan_literal_is_not_json(dust: DustSandbox) -> None:
    body = b'{"text": "x", "timestamp": NaN}'
    response = requests.post(url(dust, "doc"), data=body, headers=AUTH, timeout=5)
    assert response.status_code == 400
    assert dust.document("doc") is None


# --- Handler checks after the schema ----------------------------------------------------


def test_text_wins_over_section(dust: DustSandbox) -> None:
    body = {"text": "from text", "section": leaf("from section", prefix="P")}
    assert upsert(dust, "doc", body).status_code == 200
    stored = dust.document("doc")
    assert stored["text"] == "from text"
    assert stored["section"] == leaf("from text")


@pytest.mark.parametrize("body", [{}, {"text": None, "section": None}, {"title": "only"}])
def test_text_or_section_is_required(dust: DustSandbox, body: dict) -> None:
    assert_error(
        upsert(dust, "doc", body),
        400,
        "invalid_request_error",
        "Invalid request body, `text` or `section` must be provided.",
    )


def test_full_text_concatenates_prefix_content_and_children_with_nothing_added(
    dust: DustSandbox,
) -> None:
    section = {
        "prefix": "# Acme\n",
        "content": None,
        "sections": [
            {"prefix": "## Company", "content": "MRR: 0", "sections": []},
            {
                "prefix": None,
                "content": "Conversations:",
                "sections": [leaf("first"), leaf(None, prefix="second")],
            },
        ],
    }
    assert upsert(dust, "doc", {"section": section, "title": "Acme"}).status_code == 200

    expected = "# Acme\n## CompanyMRR: 0Conversations:firstsecond"
    assert dust.document("doc")["text"] == expected
    fetched = get(dust, "doc").json()["document"]
    assert fetched["text"] == expected
    assert fetched["title"] == "Acme"


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        (
            "HTTPS://App.Planhat.COM:443/companies/a b?x=1 2#top",
            "https://app.planhat.com/companies/a%20b?x=1%202#top",
        ),
        ("https://app.planhat.com", "https://app.planhat.com/"),
        ("https://app.planhat.com/a/./b/../c", "https://app.planhat.com/a/c"),
        ("http://bücher.example/é", "http://xn--bcher-kva.example/%C3%A9"),
        ("https://app.planhat.com:8443/x", "https://app.planhat.com:8443/x"),
        ("", None),
    ],
)
def test_source_url_is_stored_normalised(dust: DustSandbox, sent: str, stored: str | None) -> None:
    assert upsert(dust, "doc", {"text": "x", "source_url": sent}).status_code == 200
    assert dust.document("doc")["source_url"] == stored


@pytest.mark.parametrize(
    "source_url",
    [
        "ftp://example.com/file",
        "app.planhat.com/companies/1",
        "javascript:alert(1)",
        "https://example.com//double/slash",
        "http://",
        "http://exa mple.com/",
        "https://example.com:99999/",
    ],
)
def test_invalid_source_url_is_a_400(dust: DustSandbox, source_url: str) -> None:
    assert_error(
        upsert(dust, "doc", {"text": "x", "source_url": source_url}),
        400,
        "invalid_request_error",
        "Invalid request body, `source_url` if provided must be a valid URL.",
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"parents": ["doc"]}, "parents"),
        ({"parents": []}, "parents"),
        ({"parent_id": "p"}, "parent_id"),
    ],
)
def test_custom_hierarchy_is_refused(dust: DustSandbox, body: dict, field: str) -> None:
    assert_error(
        upsert(dust, "doc", {"text": "x", **body}),
        400,
        "invalid_request_error",
        f"Setting a custom hierarchy is not supported yet. Please omit the {field} field.",
    )


def test_falsy_hierarchy_fields_are_ignored(dust: DustSandbox) -> None:
    response = upsert(dust, "doc", {"text": "x", "parents": None, "parent_id": ""})
    assert response.status_code == 200


def test_title_over_512_characters_is_a_400(dust: DustSandbox) -> None:
    assert_error(
        upsert(dust, "doc", {"text": "x", "title": "t" * 513}),
        400,
        "invalid_request_error",
        "Invalid title: title too long (max 512 characters).",
    )


def test_title_is_trimmed_before_the_length_check(dust: DustSandbox) -> None:
    title = "t" * 512
    assert upsert(dust, "doc", {"text": "x", "title": f"  {title}\n"}).status_code == 200
    assert dust.document("doc")["title"] == title


@pytest.mark.parametrize(
    ("body", "title", "tags"),
    [
        ({"title": "Acme", "tags": ["status:customer"]}, "Acme", ["status:customer", "title:Acme"]),
        ({"title": " ", "tags": ["title:From tag "]}, "From tag", ["title:From tag "]),
        ({"tags": []}, "company-1", ["title:company-1"]),
        ({"title": "Acme"}, "Acme", []),
        ({"title": "Acme", "tags": None}, "Acme", []),
    ],
)
def test_title_fallback_and_title_tag(
    dust: DustSandbox, body: dict, title: str, tags: list[str]
) -> None:
    assert upsert(dust, "company-1", {"text": "x", **body}).status_code == 200
    stored = dust.document("company-1")
    assert (stored["title"], stored["tags"]) == (title, tags)
    assert get(dust, "company-1").json()["document"]["tags"] == tags


def test_system_tag_prefix_is_a_500(dust: DustSandbox) -> None:
    response = upsert(dust, "doc", {"text": "x", "tags": ["__DUST_internal"]})
    assert_error(
        response, 500, "internal_server_error", "There was an error upserting the document."
    )
    assert "data_source_error" in error(response)
    assert dust.document("doc") is None


@pytest.mark.parametrize(
    ("timestamp", "stored"),
    [
        (1_700_000_000, 1_700_000_000_000),  # seconds become milliseconds
        (1_700_000_000.25, 1_700_000_000_250),
        (1_700_000_000_123.9, 1_700_000_000_123),  # milliseconds are floored
    ],
)
def test_timestamp_is_cleaned(dust: DustSandbox, timestamp: float, stored: int) -> None:
    assert upsert(dust, "doc", {"text": "x", "timestamp": timestamp}).status_code == 200
    assert dust.document("doc")["timestamp"] == stored


@pytest.mark.parametrize("raw_timestamp", ["-5", "1e400", "null"])
def test_unusable_timestamp_becomes_now(dust: DustSandbox, raw_timestamp: str) -> None:
    before = int(time.time() * 1000)
    body = f'{{"text": "x", "timestamp": {raw_timestamp}}}'.encode()
    response = requests.post(url(dust, "doc"), data=body, headers=AUTH, timeout=5)
    after = int(time.time() * 1000)

    assert response.status_code == 200, response.text
    assert before <= dust.document("doc")["timestamp"] <= after


def test_mime_type_defaults_to_octet_stream(dust: DustSandbox) -> None:
    upsert(dust, "plain", {"text": "x"})
    upsert(dust, "markdown", {"text": "x", "mime_type": "text/markdown"})
    assert dust.document("plain")["mime_type"] == "application/octet-stream"
    assert dust.document("markdown")["mime_type"] == "text/markdown"


# --- Size limits and the prefix budget --------------------------------------------------


def test_full_text_over_the_plan_size_is_a_403(sandbox_factory: Any) -> None:
    dust = sandbox_factory(max_document_mb=0.001)  # 1048.576 UTF-16 code units

    assert upsert(dust, "fits", {"text": "x" * 1048}).status_code == 200
    response = upsert(dust, "big", {"text": "x" * 1049})

    assert_error(
        response,
        403,
        "data_source_quota_error",
        "Data sources document upload size is limited to 0.001MB on your current plan. "
        "You are attempting to upload 1049 bytes. Contact support@dust.tt if you want to "
        "increase it.",
    )
    assert dust.document("big") is None


def test_size_counts_utf16_code_units_of_the_whole_tree(sandbox_factory: Any) -> None:
    dust = sandbox_factory(max_document_mb=0.001)

    emoji = upsert(dust, "emoji", {"text": "😀" * 525})  # 525 characters, 1050 code units
    tree = upsert(
        dust,
        "tree",
        {"section": {**leaf("c" * 500, prefix="p" * 300), "sections": [leaf("d" * 300)]}},
    )

    assert emoji.status_code == 403
    assert "1050 bytes" in error(emoji)["message"]
    assert tree.status_code == 403
    assert "1100 bytes" in error(tree)["message"]


def test_body_over_the_limit_is_a_413(sandbox_factory: Any) -> None:
    dust = sandbox_factory(max_body_bytes=200, upserts_per_minute=1)

    too_large = upsert(dust, "doc", {"text": "x" * 300})
    fits = upsert(dust, "doc", {"text": "x" * 100})

    assert_error(too_large, 413, "content_too_large", "Request body too large.")
    assert fits.status_code == 200  # the refused body used no rate-limit slot


PREFIX_150_TOKENS = "p" * 600


@pytest.mark.parametrize(
    ("child_prefix_chars", "status"),
    [(420, 200), (421, 500), (424, 500)],  # 150 + ceil(n/4): 255 fits, 256 reaches the budget
)
def test_prefix_tokens_accrue_along_a_path(
    dust: DustSandbox, child_prefix_chars: int, status: int
) -> None:
    child = leaf("content", prefix="c" * child_prefix_chars)
    section = {"prefix": PREFIX_150_TOKENS, "content": None, "sections": [child]}

    response = upsert(dust, "doc", {"section": section})

    assert response.status_code == status, response.text
    if status == 500:
        assert error(response) == {
            "type": "internal_server_error",
            "message": "There was an error upserting the document.",
            "data_source_error": {
                "code": "internal_server_error",
                "message": "Could not tokenize the provided document, prefixes accrue to more "
                "than half max_chunk_size",
            },
        }


def test_prefix_budget_applies_per_path_not_to_siblings(dust: DustSandbox) -> None:
    sibling = leaf("content", prefix="s" * 400)  # 100 tokens each, 250 on every path
    siblings = {"prefix": PREFIX_150_TOKENS, "content": None, "sections": [sibling] * 3}
    deep = {
        "prefix": PREFIX_150_TOKENS,
        "content": None,
        "sections": [{"prefix": "a" * 200, "content": None, "sections": [sibling]}],
    }

    assert upsert(dust, "siblings", {"section": siblings}).status_code == 200
    assert upsert(dust, "deep", {"section": deep}).status_code == 500
    assert dust.document("deep") is None


# --- Responses and storage --------------------------------------------------------------


def test_light_document_output(dust: DustSandbox) -> None:
    response = upsert(dust, "doc", {"text": "hello", "light_document_output": True})

    assert response.status_code == 200
    body = response.json()
    assert set(body["document"]) == {"hash", "text_size", "chunk_count", "token_count", "created"}
    assert body["document"]["text_size"] == 5
    assert body["data_source"]["sId"] == dust.data_source_id


def test_full_document_output(dust: DustSandbox) -> None:
    body = {"text": "hello", "title": "Hi", "tags": ["a:b"], "timestamp": 1_700_000_000_000}
    document = upsert(dust, "doc", body).json()["document"]

    assert document["document_id"] == "doc"
    assert document["title"] == "Hi"
    assert document["tags"] == ["a:b", "title:Hi"]
    assert document["timestamp"] == 1_700_000_000_000
    assert document["parents"] == ["doc"]
    assert "chunks" in document


def test_async_upsert_answers_only_the_document_id(dust: DustSandbox) -> None:
    response = upsert(dust, "doc", {"text": "queued", "async": True})

    assert response.status_code == 200
    assert response.json() == {"document": {"document_id": "doc"}}
    assert dust.document("doc")["text"] == "queued"


def test_async_upsert_hides_core_failures(dust: DustSandbox) -> None:
    response = upsert(dust, "doc", {"text": "x", "tags": ["__DUST"], "async": True})

    assert response.json() == {"document": {"document_id": "doc"}}
    assert dust.document("doc") is None


def test_upsert_replaces_the_document_whole_and_counts(dust: DustSandbox) -> None:
    upsert(dust, "doc", {"text": "first", "tags": ["a:1"], "source_url": "https://x.io/"})
    upsert(dust, "doc", {"text": "second"})

    stored = dust.document("doc")
    assert (stored["text"], stored["tags"], stored["source_url"]) == ("second", [], None)
    assert stored["upserts"] == 2
    assert dust.upsert_count == 2


def test_document_ids_are_percent_decoded(dust: DustSandbox) -> None:
    assert upsert(dust, "company/1 é", {"text": "x"}).status_code == 200

    assert list(dust.documents()) == ["company/1 é"]
    assert get(dust, "company/1 é").json()["document"]["document_id"] == "company/1 é"


def test_returned_documents_are_copies(dust: DustSandbox) -> None:
    upsert(dust, "doc", {"text": "x"})
    dust.document("doc")["text"] = "changed"
    dust.documents()["doc"]["text"] = "changed"
    assert dust.document("doc")["text"] == "x"


def test_concurrent_upserts_are_all_stored(sandbox_factory: Any) -> None:
    dust = sandbox_factory(upserts_per_minute=0)
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(
            pool.map(lambda i: upsert(dust, f"doc-{i}", {"text": str(i)}).status_code, range(40))
        )

    assert statuses == [200] * 40
    assert len(dust.documents()) == 40
    assert dust.upsert_count == 40


def test_put_document_seeds_without_http_or_rate_limit(sandbox_factory: Any) -> None:
    dust = sandbox_factory(upserts_per_minute=1)
    for i in range(3):
        dust.put_document(f"seed-{i}", {"text": f"seed {i}", "tags": []})

    assert dust.document("seed-0")["tags"] == ["title:seed-0"]
    assert dust.document("seed-0")["upserts"] == 0
    assert dust.upsert_count == 0
    assert dust.log.count() == 0
    assert upsert(dust, "http", {"text": "x"}).status_code == 200


def test_put_document_refuses_what_dust_refuses(dust: DustSandbox) -> None:
    with pytest.raises(ValueError, match="custom hierarchy"):
        dust.put_document("doc", {"text": "x", "parents": ["doc"]})
    with pytest.raises(ValueError, match="Required"):
        dust.put_document("doc", {"section": {"prefix": "x"}})
    assert dust.documents() == {}


# --- Read, list, delete -----------------------------------------------------------------


def test_get_of_a_missing_document_is_a_400(dust: DustSandbox) -> None:
    response = get(dust, "nope")

    assert response.status_code == 400
    assert error(response)["type"] == "data_source_error"
    assert error(response)["data_source_error"]["code"] == "data_source_document_not_found"


def test_delete_is_idempotent(dust: DustSandbox) -> None:
    dust.put_document("doc", {"text": "x"})

    first = delete(dust, "doc")
    second = delete(dust, "doc")

    assert first.status_code == second.status_code == 200
    assert first.json() == second.json() == {"document": {"document_id": "doc"}}
    assert dust.document("doc") is None
    assert get(dust, "doc").status_code == 400


@pytest.fixture
def twelve_documents(dust: DustSandbox) -> DustSandbox:
    for i in range(12):  # inserted out of timestamp order
        timestamp = 1_700_000_000_000 + ((i * 5) % 12) * 1000
        dust.put_document(f"doc-{i}", {"text": f"text {i}", "timestamp": timestamp})
    return dust


def _by_timestamp_desc(dust: DustSandbox) -> list[str]:
    documents = dust.documents().values()
    return [d["document_id"] for d in sorted(documents, key=lambda d: -d["timestamp"])]


def test_list_defaults_to_ten_newest_without_text(twelve_documents: DustSandbox) -> None:
    body = get(twelve_documents).json()

    assert body["total"] == 12
    assert [d["document_id"] for d in body["documents"]] == _by_timestamp_desc(twelve_documents)[
        :10
    ]
    assert all(d["text"] is None for d in body["documents"])


def test_list_pages_with_limit_and_offset(twelve_documents: DustSandbox) -> None:
    page = get(twelve_documents, params={"limit": 5, "offset": 10}).json()
    everything = get(twelve_documents, params={"limit": 500}).json()

    ordered = _by_timestamp_desc(twelve_documents)
    assert [d["document_id"] for d in page["documents"]] == ordered[10:]
    assert [d["document_id"] for d in everything["documents"]] == ordered


def test_list_filters_by_repeated_document_ids(twelve_documents: DustSandbox) -> None:
    params = {"document_ids": ["doc-1", "doc-2", "missing"]}
    body = get(twelve_documents, params=params).json()

    assert sorted(d["document_id"] for d in body["documents"]) == ["doc-1", "doc-2"]
    assert body["total"] == 2
    assert (
        twelve_documents.log.entries(method="GET")[-1].query["document_ids"]
        == params["document_ids"]
    )


# --- Authentication and permissions -----------------------------------------------------


def test_missing_authorization_is_a_401(dust: DustSandbox) -> None:
    assert_error(
        upsert(dust, "doc", {"text": "x"}, headers={}),
        401,
        "not_authenticated",
        "The request does not have valid authentication credentials.",
    )


def test_wrong_key_is_a_401(dust: DustSandbox) -> None:
    response = get(dust, headers={"Authorization": "Bearer sk-not-the-key"})
    assert_error(
        response, 401, "invalid_api_key_error", "The API key provided is invalid or disabled."
    )
    assert DUST_API_KEY not in response.text


def test_unknown_workspace_is_a_404(dust: DustSandbox) -> None:
    path = dust.documents_path.replace(dust.workspace_id, "w_other")
    response = requests.get(dust.url + path, headers=AUTH, timeout=5)
    assert_error(response, 404, "workspace_not_found", "The workspace was not found.")


@pytest.mark.parametrize("wrong", ["space_id", "data_source_id"])
def test_unknown_space_or_data_source_is_a_404(dust: DustSandbox, wrong: str) -> None:
    path = dust.documents_path.replace(getattr(dust, wrong), "other")
    response = requests.post(f"{dust.url}{path}/doc", json={"text": "x"}, headers=AUTH, timeout=5)
    assert_error(
        response, 404, "data_source_not_found", "The data source you requested was not found."
    )


def test_read_only_key_cannot_write(sandbox_factory: Any) -> None:
    dust = sandbox_factory(read_only=True)
    dust.put_document("doc", {"text": "x"})
    message = "You are not allowed to update data in this data source."

    assert_error(upsert(dust, "doc", {"text": "y"}), 403, "data_source_auth_error", message)
    assert_error(delete(dust, "doc"), 403, "data_source_auth_error", message)
    assert get(dust, "doc").json()["document"]["text"] == "x"


# --- Rate limit -------------------------------------------------------------------------


def test_upserts_over_the_window_get_a_429_without_retry_after(sandbox_factory: Any) -> None:
    dust = sandbox_factory(upserts_per_minute=3, window_seconds=0.5)

    statuses = [upsert(dust, f"doc-{i}", {"text": "x"}).status_code for i in range(3)]
    refused = upsert(dust, "doc-3", {"text": "x"})

    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json() == {
        "error": {
            "type": "rate_limit_error",
            "message": "You have reached the maximum number of 3 upserts per minute.",
        }
    }
    assert "Retry-After" not in refused.headers
    assert get(dust, "doc-0").status_code == 200  # reads are not limited
    assert delete(dust, "doc-0").status_code == 200

    time.sleep(0.6)
    assert upsert(dust, "doc-3", {"text": "x"}).status_code == 200
    assert dust.upsert_count == 4


def test_refused_upserts_do_not_extend_the_window(sandbox_factory: Any) -> None:
    dust = sandbox_factory(upserts_per_minute=1, window_seconds=1.0)
    assert upsert(dust, "a", {"text": "x"}).status_code == 200
    accepted_at = time.monotonic()

    time.sleep(0.5)
    assert upsert(dust, "b", {"text": "x"}).status_code == 429
    time.sleep(max(0.0, accepted_at + 1.1 - time.monotonic()))

    assert upsert(dust, "b", {"text": "x"}).status_code == 200


def test_schema_errors_use_no_slot_when_validation_runs_first(sandbox_factory: Any) -> None:
    dust = sandbox_factory(upserts_per_minute=2, validate_before_rate_limit=True)

    invalid = [upsert(dust, "doc", {"text": 1}).status_code for _ in range(3)]
    valid = [upsert(dust, f"doc-{i}", {"text": "x"}).status_code for i in range(2)]

    assert invalid == [400, 400, 400]
    assert valid == [200, 200]


def test_schema_errors_use_a_slot_when_the_limiter_runs_first(sandbox_factory: Any) -> None:
    dust = sandbox_factory(upserts_per_minute=3, validate_before_rate_limit=False)

    first = upsert(dust, "doc", {"text": "x"})
    invalid = [upsert(dust, "doc", {"text": 1}).status_code for _ in range(2)]
    after = upsert(dust, "doc", {"text": "y"})

    assert first.status_code == 200
    assert invalid == [400, 400]
    assert after.status_code == 429
    assert dust.document("doc")["text"] == "x"


def test_handler_checks_after_the_limiter_use_a_slot(sandbox_factory: Any) -> None:
    dust = sandbox_factory(upserts_per_minute=1)

    too_long = upsert(dust, "doc", {"text": "x", "title": "t" * 600})
    after = upsert(dust, "doc", {"text": "x"})

    assert too_long.status_code == 400
    assert after.status_code == 429


# --- Faults and the request log ---------------------------------------------------------


def test_scheduled_faults_use_dust_error_envelopes(sandbox_factory: Any) -> None:
    faults = Faults(schedule={2: "503", 3: "429", 4: "500", 5: "502"})
    dust = sandbox_factory(faults=faults)

    responses = [upsert(dust, f"doc-{i}", {"text": "x"}) for i in range(6)]

    assert [r.status_code for r in responses] == [200, 503, 429, 500, 502, 200]
    types = [error(r)["type"] for r in responses[1:5]]
    assert types == [
        "service_unavailable",
        "rate_limit_error",
        "internal_server_error",
        "service_unavailable",
    ]
    assert "Retry-After" not in responses[2].headers
    assert sorted(dust.documents()) == ["doc-0", "doc-5"]
    assert dust.upsert_count == 2


def test_request_log_records_every_call(dust: DustSandbox) -> None:
    upsert(dust, "doc", {"text": "x"})
    upsert(dust, "doc", {"text": 1})
    get(dust, "doc")
    get(dust, params={"limit": 3})

    log = dust.log
    assert log.count(method="POST", path=dust.documents_path) == 2
    assert log.count(method="POST", status=400) == 1
    assert log.entries(method="GET")[-1].query == {"limit": ["3"]}
    assert log.bytes(method="GET") > 0


def test_lone_surrogates_are_replaced_not_fatal(dust: DustSandbox) -> None:
    body = b'{"text": "a\\ud800b", "tags": ["x\\udc00"]}'
    response = requests.post(url(dust, "doc"), data=body, headers=AUTH, timeout=5)

    assert response.status_code == 200, response.text
    assert dust.document("doc")["text"] == "a\ufffdb"
    assert get(dust, "doc").json()["document"]["tags"] == ["x\ufffd", "title:doc"]


def test_unsupported_method_is_a_405(dust: DustSandbox) -> None:
    response = requests.put(url(dust, "doc"), json={"text": "x"}, headers=AUTH, timeout=5)
    assert_error(
        response,
        405,
        "method_not_supported_error",
        "The method passed is not supported, GET, POST, or DELETE is expected.",
    )
