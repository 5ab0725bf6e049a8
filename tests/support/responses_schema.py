"""Validate bodies and streamed events against the OpenResponses spec's JSON schemas
(tests/specs/openresponses-openapi.json; `$ref`s resolved against that document)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SPEC_PATH = Path(__file__).parent.parent / "specs" / "openresponses-openapi.json"
SPEC_URI = "urn:openresponses-spec"


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC_PATH.read_text())
    return loaded


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(spec(), default_specification=DRAFT202012)
    registry: Registry = Registry().with_resource(SPEC_URI, resource)
    return registry


@cache
def _validator(name: str) -> Draft202012Validator:
    schema = {"$ref": f"{SPEC_URI}#/components/schemas/{name}"}
    return Draft202012Validator(schema, registry=_registry())


def validate(name: str, instance: Any) -> None:
    """Raise jsonschema.ValidationError unless `instance` is a valid `name` (a schema of
    components/schemas), naming the path of the first error."""
    errors = sorted(_validator(name).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        path = "/".join(str(part) for part in error.absolute_path)
        raise AssertionError(f"{name} invalid at /{path}: {error.message}")


@cache
def event_schemas() -> dict[str, str]:
    """Streaming event `type` → the schema name the spec gives it."""
    stream = spec()["paths"]["/responses"]["post"]["responses"]["200"]["content"]
    names: dict[str, str] = {}
    for ref in stream["text/event-stream"]["schema"]["oneOf"]:
        name = ref["$ref"].rsplit("/", 1)[-1]
        kind = spec()["components"]["schemas"][name]["properties"]["type"]["enum"][0]
        names[kind] = name
    return names


def validate_event(event: dict[str, Any]) -> None:
    """A streamed event against the schema of its `type` (unknown types fail)."""
    kind = event.get("type")
    name = event_schemas().get(str(kind))
    if name is None:
        raise AssertionError(f"event type {kind!r} is not in the spec")
    validate(name, event)
    if "response" in event:
        validate("ResponseResource", event["response"])


def validate_events(events: list[dict[str, Any]]) -> None:
    """Every event valid, sequence numbers strictly increasing, output_index in the
    order items were added."""
    last = -1
    added: list[str] = []
    for event in events:
        validate_event(event)
        assert event["sequence_number"] > last, (event["sequence_number"], last)
        last = event["sequence_number"]
        if event["type"] == "response.output_item.added":
            assert event["output_index"] == len(added), (event["output_index"], added)
            added.append(event["item"]["id"])
        elif "output_index" in event:
            assert added[event["output_index"]] == event.get("item_id", event.get("item", {}).get("id"))


def parse_frames(raw: bytes) -> list[dict[str, Any]]:
    """The JSON events of an SSE body (`[DONE]` dropped); each `event:` must equal its type."""
    events: list[dict[str, Any]] = []
    for frame in raw.decode().split("\n\n"):
        lines = [line for line in frame.split("\n") if line]
        data = [line[6:] for line in lines if line.startswith("data: ")]
        if not data or data == ["[DONE]"]:
            continue
        event = json.loads("\n".join(data))
        names = [line[7:] for line in lines if line.startswith("event: ")]
        assert names == [event["type"]], (names, event["type"])
        events.append(event)
    return events
