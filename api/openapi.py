"""The OpenAPI 3.1 document served at ``/api/openapi.json``.

Written by hand, next to the routes it describes; tests validate real responses of every
documented status against these schemas, so the document cannot drift from the code.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from api import openapi_dashboard
from api.validation import ASPECT_RATIOS, LIMIT_DEFAULT, LIMIT_MAX, PROMPT_MAX, PROMPT_MIN

ERROR_CODES = {
    400: ["invalid_json", "invalid_prompt", "invalid_duration", "invalid_aspect_ratio",
          "invalid_limit", "invalid_status", "missing_active_business", "invalid_field"],
    401: ["unauthorized", "bad_signature"],
    403: ["insufficient_scope", "plan_not_allowed", "permission_denied", "csrf_failed",
          "overlay_not_allowed"],
    404: ["not_found"],
    409: ["not_ready", "idempotency_conflict"],
    413: ["payload_too_large"],
    429: ["credit_limit_exceeded"],
    503: ["video_generation_unavailable", "narration_unavailable", "compositor_unavailable",
          "database_unavailable"],
}  # fmt: skip


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    descriptions = {
        400: "Invalid input; `error.field` names it.",
        401: "No, unknown or revoked key, or no or expired session (`unauthorized`); a bad "
        "media link or compositor signature (`bad_signature`).",
        403: "Scope, plan, team permission, CSRF origin or overlay not allowed.",
        404: "Not found (also another business's ids).",
        409: "Not ready (`not_ready`), or the Idempotency-Key was used with another body.",
        413: "The JSON body is over 64 KiB.",
        429: "The month's video credits would be exceeded.",
        503: "Video generation, narration, the compositor (or the database) is not available.",
    }
    out: dict[str, Any] = {}
    for status in statuses:
        schema = _ref("CreditLimitError") if status == 429 else _ref("Error")
        out[str(status)] = _json(schema, descriptions[status])
    return out


KEY_SECURITY: list[dict[str, list[str]]] = [{"NearIQKey": []}]
REQUEST_ID_HEADER = {
    "X-Request-Id": {
        "description": "Echo of the client's X-Request-Id when it is safe, else `req_...`.",
        "schema": {"type": "string"},
    }
}


@cache
def openapi_document() -> dict[str, Any]:
    schemas: dict[str, Any] = {
        "Receipt": {
            "type": "object",
            "required": ["requestId", "generatedAt"],
            "additionalProperties": False,
            "properties": {
                "requestId": {"type": "string", "minLength": 1},
                "generatedAt": {
                    "type": "string",
                    "pattern": r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$",
                },
            },
        },
        "MonthlyUsage": {
            "type": "object",
            "required": ["used", "limit"],
            "additionalProperties": False,
            "properties": {
                "used": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 0},
            },
        },
        "ErrorDetail": {
            "type": "object",
            "required": ["code", "message", "field"],
            "additionalProperties": False,
            "properties": {
                "code": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
                "message": {"type": "string", "minLength": 1},
                "field": {"type": ["string", "null"]},
            },
        },
        "Error": {
            "type": "object",
            "required": ["error", "_receipt"],
            "additionalProperties": False,
            "properties": {"error": _ref("ErrorDetail"), "_receipt": _ref("Receipt")},
        },
        "CreditLimitError": {
            "type": "object",
            "required": ["error", "monthlyUsage", "creditsRequired", "_receipt"],
            "additionalProperties": False,
            "properties": {
                "error": _ref("ErrorDetail"),
                "monthlyUsage": _ref("MonthlyUsage"),
                "creditsRequired": {"type": "integer", "minimum": 1},
                "_receipt": _ref("Receipt"),
            },
        },
        "CreateVideoRequest": {
            "type": "object",
            "required": ["prompt"],
            "description": "Unknown fields are ignored.",
            "properties": {
                "prompt": {
                    "type": "string",
                    "description": f"{PROMPT_MIN}-{PROMPT_MAX} Unicode code points after "
                    "trimming; no control characters other than tab and newlines.",
                },
                "duration": {
                    "oneOf": [
                        {"type": "string", "enum": ["5", "15", "30"]},
                        {"type": "integer", "enum": [5, 15, 30]},
                    ],
                    "default": "15",
                    "description": "Seconds. Credits: 1, 2 or 4.",
                },
                "aspectRatio": {"type": "string", "enum": list(ASPECT_RATIOS), "default": "16:9"},
            },
        },
        "CreateVideoResponse": {
            "type": "object",
            "required": [
                "id",
                "status",
                "prompt",
                "duration",
                "aspectRatio",
                "creditsUsed",
                "monthlyUsage",
                "_receipt",
            ],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "pattern": "^vg_[A-Za-z0-9]+$"},
                "status": {"type": "string", "enum": ["processing"]},
                "prompt": {"type": "string"},
                "duration": {"type": "string", "enum": ["5", "15", "30"]},
                "aspectRatio": {"type": "string", "enum": list(ASPECT_RATIOS)},
                "creditsUsed": {"type": "integer", "enum": [1, 2, 4]},
                "monthlyUsage": _ref("MonthlyUsage"),
                "_receipt": _ref("Receipt"),
            },
        },
        "Video": {
            "type": "object",
            "required": [
                "id",
                "prompt",
                "status",
                "videoUrl",
                "thumbnailUrl",
                "durationSeconds",
                "creditsUsed",
                "captions",
                "createdAt",
                "completedAt",
            ],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "string", "pattern": "^vg_[A-Za-z0-9]+$"},
                "prompt": {"type": "string"},
                "status": {"type": "string", "enum": ["processing", "completed", "failed"]},
                "videoUrl": {
                    "type": ["string", "null"],
                    "description": "Null until completed, then a short-lived signed URL.",
                },
                "thumbnailUrl": {"type": ["string", "null"]},
                "durationSeconds": {"type": "integer", "enum": [5, 15, 30]},
                "creditsUsed": {"type": "integer", "minimum": 0},
                "captions": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["startSec", "endSec", "text"],
                        "properties": {
                            "startSec": {"type": "number"},
                            "endSec": {"type": "number"},
                            "text": {"type": "string"},
                        },
                    },
                },
                "createdAt": {"type": "string", "format": "date-time"},
                "completedAt": {"type": ["string", "null"], "format": "date-time"},
            },
        },
        "VideoList": {
            "type": "object",
            "required": ["videos", "total", "monthlyUsage"],
            "additionalProperties": False,
            "properties": {
                "videos": {"type": "array", "items": _ref("Video"), "maxItems": LIMIT_MAX},
                "total": {"type": "integer", "minimum": 0},
                "monthlyUsage": _ref("MonthlyUsage"),
            },
        },
        "Health": {
            "type": "object",
            "required": ["status", "generation"],
            "properties": {
                "status": {"type": "string", "enum": ["ok"]},
                "generation": {"type": "string", "enum": ["available", "unavailable"]},
            },
        },
    }
    schemas.update(openapi_dashboard.schemas(_ref))
    error_codes = {str(status): codes for status, codes in ERROR_CODES.items()}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "NearIQ video API",
            "version": "1.0.0",
            "description": "Public v1 video generation API (key), the dashboard's app-session "
            "routes (cookie) and the compositor's callback. Every error body is "
            "`{error: {code, message, field}, _receipt}`; codes by status: "
            + "; ".join(f"{status}: {', '.join(codes)}" for status, codes in error_codes.items()),
        },
        "servers": [{"url": "/"}],
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "NearIQKey": {"type": "apiKey", "in": "header", "name": "X-NearIQ-Key"},
                **openapi_dashboard.SECURITY_SCHEMES,
            },
        },
        "paths": {
            "/api/v1/video": {
                "post": {
                    "operationId": "createVideo",
                    "summary": "Start a video generation job for the key's business.",
                    "description": "Needs `content:write`. Check order: key (401), scope (403), "
                    "active business (400), team permission (403), plan (403), body (400), "
                    "provider (503), credits (429).",
                    "security": KEY_SECURITY,
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "Same key and body within 24 h: the first response "
                            "again, nothing charged. Another body: 409.",
                            "schema": {"type": "string", "maxLength": 255},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": _ref("CreateVideoRequest")}},
                    },
                    "responses": {
                        "200": {
                            **_json(_ref("CreateVideoResponse"), "The job was started."),
                            "headers": REQUEST_ID_HEADER,
                        },
                        **_errors(400, 401, 403, 409, 413, 429, 503),
                    },
                },
                "get": {
                    "operationId": "listVideos",
                    "summary": "List the business's video jobs, newest first.",
                    "description": "Needs `content:read` (`content:write` does not imply it).",
                    "security": KEY_SECURITY,
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "description": f"Default {LIMIT_DEFAULT}; over {LIMIT_MAX} is "
                            f"clamped to {LIMIT_MAX}; < 1 or not an integer: 400.",
                            "schema": {"type": "integer", "minimum": 1, "default": LIMIT_DEFAULT},
                        },
                        {
                            "name": "status",
                            "in": "query",
                            "schema": {
                                "type": "string",
                                "enum": ["completed", "processing", "failed", "all"],
                                "default": "all",
                            },
                        },
                    ],
                    "responses": {
                        "200": {
                            **_json(_ref("VideoList"), "The page and this month's usage."),
                            "headers": REQUEST_ID_HEADER,
                        },
                        **_errors(400, 401, 403),
                    },
                },
            },
            "/api/media/{key}": {
                "get": {
                    "operationId": "getMedia",
                    "summary": "A stored file, by the signed link the list returns.",
                    "description": "Local storage only (S3 links point at S3). Supports HEAD, "
                    "Range (206) and ETag.",
                    "parameters": [
                        {
                            "name": "key",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {
                            "name": "exp",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "integer"},
                        },
                        {
                            "name": "sig",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                    ],
                    "responses": {
                        "200": {
                            "description": "The file.",
                            "content": {
                                "video/mp4": {"schema": {"type": "string", "format": "binary"}},
                                "image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                            },
                        },
                        "206": {"description": "The requested byte range."},
                        **_errors(401, 404),
                    },
                }
            },
            "/api/health": {
                "get": {
                    "operationId": "health",
                    "summary": "Liveness and readiness: the database answers.",
                    "responses": {
                        "200": _json(_ref("Health"), "Up."),
                        **_errors(503),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document.",
                    "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1.")},
                }
            },
            **openapi_dashboard.paths(_ref, _json, _errors),
        },
    }
