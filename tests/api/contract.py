"""Checks a real response against the OpenAPI document the app serves."""

from __future__ import annotations

from typing import Any

import httpx
from jsonschema import Draft202012Validator, FormatChecker

from api.openapi import openapi_document


def response_schema(method: str, path: str, status: int) -> dict[str, Any]:
    document = openapi_document()
    responses = document["paths"][path][method.lower()]["responses"]
    assert str(status) in responses, f"{method} {path} does not document {status}"
    schema = responses[str(status)]["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


def assert_documented(response: httpx.Response, method: str, path: str) -> dict[str, Any]:
    """The body validates against the documented schema of its status; returns the body."""
    body = response.json()
    validator = Draft202012Validator(
        response_schema(method, path, response.status_code), format_checker=FormatChecker()
    )
    errors = sorted(validator.iter_errors(body), key=lambda error: list(error.path))
    assert not errors, f"{method} {path} {response.status_code}: {errors[0].message} in {body}"
    assert response.headers.get("x-request-id"), "every response carries X-Request-Id"
    # A replayed idempotent response is the first response, receipt included.
    if "_receipt" in body and "idempotent-replayed" not in response.headers:
        assert body["_receipt"]["requestId"] == response.headers["x-request-id"]
    return body


def assert_error(
    response: httpx.Response, status: int, code: str, method: str, path: str = "/api/v1/video"
) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body = assert_documented(response, method, path)
    assert body["error"]["code"] == code, body
    return body
