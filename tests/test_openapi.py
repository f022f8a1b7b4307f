"""The served OpenAPI schema documents every request and response type with valid examples."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest
from litestar.testing import TestClient

METHODS = {"get", "put", "post", "delete", "patch", "options", "head"}
REF = "#/components/schemas/"


def refs(node: Any) -> Iterator[str]:
    """The component names every ``$ref`` under ``node`` points to."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(REF):
            yield ref.removeprefix(REF)
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def api_types(schema: dict[str, Any]) -> set[str]:
    """Components a request body or a response uses, directly or through other components."""
    roots = [
        part
        for item in schema["paths"].values()
        for method, operation in item.items()
        if method in METHODS
        for part in (operation.get("requestBody", {}), operation.get("responses", {}))
    ]
    components = schema["components"]["schemas"]
    found: set[str] = set()
    pending = list(refs(roots))
    while pending:
        name = pending.pop()
        if name not in found:
            found.add(name)
            pending.extend(refs(components[name]))
    return found


def is_component(prop: dict[str, Any]) -> bool:
    """A property that is another component (or a list of them, or null): its examples are there."""
    branches = prop.get("oneOf") or prop.get("anyOf") or prop.get("allOf") or [prop]
    return all(
        b.get("type") == "null" or "$ref" in b or "$ref" in b.get("items", {}) for b in branches
    )


@pytest.fixture
def schema(client: TestClient) -> dict[str, Any]:  # type: ignore[type-arg]
    body: dict[str, Any] = client.get("/schema/openapi.json").json()
    return body


def test_every_request_and_response_type_has_examples(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    types = api_types(schema)
    assert {"DocumentIn", "IngestResponse", "CheckRequest", "CheckResponse", "Problem"} <= types
    assert {"Evidence", "Mismatch", "Interval", "ItemResult"} <= types  # reached through others
    missing = [
        f"{name}.{prop}"
        for name in sorted(types)
        if not components[name].get("examples")
        for prop, spec in components[name].get("properties", {}).items()
        if not spec.get("examples") and not is_component(spec)
    ]
    assert missing == [], f"properties without examples: {missing}"


def test_every_example_is_valid_for_its_schema(schema: dict[str, Any]) -> None:
    """Schemathesis sends the examples: an invalid one would be a request the API rejects."""
    schemas = [(name, spec) for name, spec in schema["components"]["schemas"].items()]
    schemas += [
        (f"{method.upper()} {path} {kind}", media["schema"])
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
        for kind, part in [
            ("request", operation.get("requestBody", {})),
            *operation.get("responses", {}).items(),
        ]
        for media in part.get("content", {}).values()
    ]
    examples = [(where, spec, e) for where, spec in schemas for e in spec.get("examples") or []]
    examples += [
        (f"{where}.{prop}", prop_spec, e)
        for where, spec in schemas
        for prop, prop_spec in spec.get("properties", {}).items()
        for e in prop_spec.get("examples") or []
    ]
    for where, spec, example in examples:
        validator = jsonschema.Draft202012Validator(
            {**spec, "components": schema["components"]},
            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
        )
        errors = [e.message for e in validator.iter_errors(example)]
        assert errors == [], f"{where}: example {example!r}: {errors}"
    assert len(examples) > 100
    assert any(where == "POST /v1/check request" for where, _, _ in examples)


def test_every_operation_is_described_with_documented_examples(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]

    def has_examples(spec: dict[str, Any]) -> bool:
        if spec.get("examples") or spec.get("example") is not None:
            return True
        ref = spec.get("$ref") or spec.get("items", {}).get("$ref")
        if ref:
            component = components[ref.removeprefix(REF)]
            props = component.get("properties", {})
            return bool(component.get("examples")) or all(
                p.get("examples") or is_component(p) for p in props.values()
            )
        return False

    missing = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            where = f"{method.upper()} {path}"
            if not operation.get("summary") or not operation.get("description"):
                missing.append(f"{where}: summary or description")
            for status, response in operation["responses"].items():
                if not response.get("description"):
                    missing.append(f"{where} {status}: description")
                for media_type, media in response.get("content", {}).items():
                    if media_type.startswith("application/") and not (
                        has_examples(media["schema"]) or media.get("examples")
                    ):
                        missing.append(f"{where} {status} {media_type}: examples")
    assert missing == []


def test_verdict_confidence_and_reasons_are_explained(schema: dict[str, Any]) -> None:
    response = schema["components"]["schemas"]["CheckResponse"]["properties"]
    verdict = response["verdict"]
    for word in ("supported", "refuted", "conflicting", "not_enough_info"):
        assert f"`{word}`" in verdict["description"]
    assert "calibrated" in response["confidence"]["description"]
    for code in ("supported_by_sources", "time_mismatch", "no_relevant_evidence"):
        assert code in response["reasons"]["description"]
    assert "English" in response["language"]["description"]


def test_bearer_scheme_is_declared_even_with_keys_off(schema: dict[str, Any]) -> None:
    schemes = schema["components"]["securitySchemes"]
    assert schemes["BearerAuth"] == {**schemes["BearerAuth"], "type": "http", "scheme": "bearer"}


ERRORS = [  # (method, path, body, status): the service's answers as they are sent
    ("post", "/v1/check", {"statement": ""}, 400),
    ("post", "/v1/check", b"{not json", 400),
    ("post", "/v1/check", {"statement": "ok", "top_k": 50, "sources": ["x"] * 101}, 400),
    ("get", "/v1/documents/no%2Fsuch%20doc", None, 404),
    ("post", "/v1/documents/nope/unretract", None, 404),
    ("post", "/v1/check/batch", {"items": [{"statement": "s"}] * 300}, 422),
]


@pytest.mark.parametrize(("method", "path", "body", "status"), ERRORS)
def test_error_bodies_are_the_documented_problem_json(
    client: TestClient,  # type: ignore[type-arg]
    schema: dict[str, Any],
    method: str,
    path: str,
    body: Any,
    status: int,
) -> None:
    kwargs: dict[str, Any] = {}
    if isinstance(body, bytes):
        kwargs = {"content": body, "headers": {"content-type": "application/json"}}
    elif body is not None:
        kwargs = {"json": body}
    response = getattr(client, method)(path, **kwargs)
    assert response.status_code == status, response.text
    template = (
        path
        if path.startswith("/v1/check")
        else "/v1/documents/{doc_id}" + ("/unretract" if path.endswith("unretract") else "")
    )
    documented = schema["paths"][template][method]["responses"][str(status)]["content"]
    media_type = response.headers["content-type"].split(";")[0]
    assert list(documented) == [media_type] == ["application/problem+json"]
    validator = jsonschema.Draft202012Validator(
        {**documented[media_type]["schema"], "components": schema["components"]}
    )
    assert [e.message for e in validator.iter_errors(response.json())] == []
    assert response.json()["status"] == status and response.json()["detail"]
