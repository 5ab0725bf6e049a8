"""Which key a request presents, from its headers: Bearer first, then x-api-key, then
x-goog-api-key, then `?key=`; the first header of each name counts."""

from __future__ import annotations

from starlette.datastructures import Headers

from relaygate.pipeline.auth import key_from_headers


def _key(raw: list[tuple[str, str]], query_key: str | None = None) -> str | None:
    return key_from_headers(
        Headers(raw=[(name.encode(), value.encode()) for name, value in raw]), query_key
    )


def test_bearer_wins_and_the_others_follow_in_order() -> None:
    both = [("x-api-key", "k-header"), ("authorization", "Bearer  k-bearer ")]
    assert _key(both) == "k-bearer"
    assert _key([("x-goog-api-key", "k-goog"), ("x-api-key", "k-api")]) == "k-api"
    assert _key([("x-goog-api-key", "k-goog")], "k-query") == "k-goog"
    assert _key([("accept", "*/*")], "k-query") == "k-query"
    assert _key([]) is None


def test_a_basic_or_empty_authorization_falls_through_and_only_the_first_counts() -> None:
    assert _key([("authorization", "Basic abc"), ("x-api-key", "k-api")]) == "k-api"
    assert _key([("authorization", "Bearer "), ("x-api-key", "k-api")]) == "k-api"
    second = [("authorization", "Basic abc"), ("authorization", "Bearer later")]
    assert _key(second) is None
    assert _key([("x-api-key", "first"), ("x-api-key", "second")]) == "first"


def test_names_from_a_mapping_are_matched_in_any_case() -> None:
    assert key_from_headers(Headers(headers={"Authorization": "Bearer k"})) == "k"
