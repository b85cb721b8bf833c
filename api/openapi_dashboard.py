"""The OpenAPI description of the dashboard routes (CONTRACT §5) and the compositor callback.

Kept apart from ``api.openapi`` (the v1 routes) so each file stays about one thing; the
document served at ``/api/openapi.json`` merges both. Tests validate real responses of these
routes against the schemas below, like the v1 ones.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from api.audio_config import MUSIC_TRACKS, NUMBER_BOUNDS, VOICES
from api.compositing.jobs import (
    CAPTION_STYLES,
    CLIP_STYLE_MUSIC,
    FADE_MAX_SEC,
    FADE_MIN_SEC,
    MAX_CLIP_IDS,
    OVERLAY_POSITIONS,
    OVERLAY_STYLES,
    TRANSITIONS,
)
from api.validation import ASPECT_RATIOS

Ref = Callable[[str], dict[str, str]]
SESSION_SECURITY: list[dict[str, list[str]]] = [{"DashboardSession": []}]
STATUSES = ["processing", "completed", "failed"]
ID = {"type": "string", "pattern": "^vg_[A-Za-z0-9]+$"}
TIME = {"type": "string", "format": "date-time"}
SECONDS = {"type": "number", "minimum": 0}


def _object(
    properties: dict[str, Any],
    required: list[str] | None = None,
    *,
    closed: bool = True,
    description: str | None = None,
) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    if closed:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def audio_properties() -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for name, (low, high) in NUMBER_BOUNDS.items():
        bound: dict[str, Any] = {"type": "number", "minimum": low}
        if high is not None:
            bound["maximum"] = high
        else:
            bound["description"] = "Seconds on the output timeline, at most the duration."
        properties[name] = bound
    properties["voice"] = {"type": "string", "enum": list(VOICES)}
    properties["musicTrack"] = {"type": "string", "enum": list(MUSIC_TRACKS)}
    return properties


def schemas(ref: Ref) -> dict[str, Any]:
    cue = _object(
        {"startSec": SECONDS, "endSec": SECONDS, "text": {"type": "string", "minLength": 1}},
        ["startSec", "endSec", "text"],
    )
    overlay = _object(
        {
            "text": {"type": "string", "minLength": 1, "maxLength": 200},
            "startSec": SECONDS,
            "endSec": SECONDS,
            "position": {"type": "string", "enum": list(OVERLAY_POSITIONS), "default": "center"},
            "style": {"type": "string", "enum": list(OVERLAY_STYLES), "default": "promo"},
        },
        ["text", "startSec", "endSec"],
    )
    business = _object(
        {
            "id": {"type": "string"},
            "name": {"type": "string"},
            "role": {"type": "string", "description": "owner, or the team role"},
            "active": {"type": "boolean"},
            "plan": {"type": "string"},
        },
        ["id", "name", "role", "active", "plan"],
    )
    shot = _object(
        {
            "index": {"type": "integer", "minimum": 0},
            "title": {"type": ["string", "null"]},
            "description": {"type": ["string", "null"]},
            "startSec": SECONDS,
            "durationSec": SECONDS,
            "status": {"type": "string", "enum": STATUSES},
            "url": {"type": "string", "description": "Signed link, once the shot is stored."},
        },
        ["index", "description", "startSec", "durationSec", "status"],
    )
    compositing = _object(
        {
            "transition": _object(
                {
                    "type": {"type": "string", "enum": list(TRANSITIONS)},
                    "durationSec": {
                        "type": "number",
                        "minimum": FADE_MIN_SEC,
                        "maximum": FADE_MAX_SEC,
                    },
                },
                ["type", "durationSec"],
            ),
            "captionStyle": {"type": "string", "enum": list(CAPTION_STYLES)},
            "textOverlays": {"type": "array", "items": ref("TextOverlay")},
            "watermark": {
                "type": ["object", "null"],
                "description": "What the composite routes add for this plan (null: none).",
            },
            "allowedOverlays": {
                "type": "array",
                "items": {"type": "string", "enum": ["voice", "music", "text"]},
            },
            "premiumNarration": {"type": "boolean"},
        },
        ["transition", "captionStyle", "textOverlays", "watermark"],
        description="Guidance for finishing the bundle: what /composite does by default and "
        "what the plan allows; the overlays are suggestions, used only if sent back.",
    )
    video = _object(
        {
            "id": ID,
            "kind": {"type": "string", "enum": ["generation", "composite"]},
            "status": {"type": "string", "enum": STATUSES},
            "prompt": {"type": "string"},
            "duration": {"type": "string", "enum": ["5", "15", "30"]},
            "aspectRatio": {"type": "string", "enum": list(ASPECT_RATIOS)},
            "style": {"type": ["string", "null"]},
            "script": {"type": ["string", "null"]},
            "audioConfig": ref("AudioConfig"),
            "shots": {"type": "array", "items": ref("Shot")},
            "compositing": ref("Compositing"),
            "captions": {"type": "array", "items": ref("CaptionCue")},
            "createdAt": TIME,
            "completedAt": {"type": ["string", "null"], "format": "date-time"},
            "sourceIds": {"type": "array", "items": ID, "description": "Composites only."},
            "videoUrl": {
                "type": ["string", "null"],
                "description": "Status route: signed link once completed.",
            },
            "thumbnailUrl": {"type": ["string", "null"]},
            "creditsUsed": {"type": "integer", "minimum": 0},
            "error": {
                "type": ["object", "null"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        [
            "id",
            "kind",
            "status",
            "prompt",
            "duration",
            "aspectRatio",
            "script",
            "audioConfig",
            "shots",
            "compositing",
        ],
    )
    composite = _object(
        {
            "id": ID,
            "url": {"type": "string", "description": "Short-lived signed link to the MP4."},
            "posterUrl": {"type": ["string", "null"]},
            "durationSec": {"type": "number", "minimum": 0},
            "width": {"type": "integer", "minimum": 1},
            "height": {"type": "integer", "minimum": 1},
        },
        ["id", "url", "posterUrl", "durationSec", "width", "height"],
    )
    token = {"type": "string", "minLength": 1, "description": "Opaque; poll with it."}
    endpoint = {"type": "string", "enum": ["/api/businesses/me/video/composite"]}
    audio_changes = _object(
        audio_properties(), description="Any of the fields; the rest keep the bundle's values."
    )
    return {
        "CaptionCue": cue,
        "TextOverlay": overlay,
        "BusinessAccess": business,
        "Shot": shot,
        "Compositing": compositing,
        "AudioConfig": _object(audio_properties(), list(audio_properties())),
        "AudioConfigChanges": audio_changes,
        "SourceBundle": video,
        "Composite": composite,
        "SessionRequest": _object(
            {"email": {"type": "string"}, "password": {"type": "string"}},
            ["email", "password"],
            closed=False,
        ),
        "SessionResponse": _object(
            {
                "user": _object(
                    {
                        "id": {"type": "string"},
                        "email": {"type": "string"},
                        "name": {"type": "string"},
                    },
                    ["id", "email", "name"],
                ),
                "activeBusinessId": {"type": ["string", "null"]},
                "businesses": {"type": "array", "items": ref("BusinessAccess")},
                "expiresAt": TIME,
                "_receipt": ref("Receipt"),
            },
            ["user", "activeBusinessId", "businesses", "expiresAt", "_receipt"],
        ),
        "SignedOut": _object(
            {"status": {"type": "string", "enum": ["signed_out"]}, "_receipt": ref("Receipt")},
            ["status", "_receipt"],
        ),
        "ActiveBusinessRequest": _object(
            {"businessId": {"type": "string"}}, ["businessId"], closed=False
        ),
        "ActiveBusinessResponse": _object(
            {"activeBusiness": ref("BusinessAccess"), "_receipt": ref("Receipt")},
            ["activeBusiness", "_receipt"],
        ),
        "CreateBundleRequest": _object(
            {
                "prompt": {"type": "string"},
                "duration": {
                    "oneOf": [
                        {"type": "string", "enum": ["5", "15", "30"]},
                        {"type": "integer", "enum": [5, 15, 30]},
                    ],
                    "default": "15",
                },
                "aspectRatio": {"type": "string", "enum": list(ASPECT_RATIOS)},
                "audioConfig": ref("AudioConfigChanges"),
                "style": {"type": "string", "maxLength": 50},
            },
            ["prompt"],
            closed=False,
            description="As the v1 create (unknown top-level fields ignored), plus audioConfig "
            "(unknown audio fields refused) and style.",
        ),
        "CreateBundleResponse": _object(
            {
                "video": ref("SourceBundle"),
                "creditsUsed": {"type": "integer", "enum": [1, 2, 4]},
                "monthlyUsage": ref("MonthlyUsage"),
                "_receipt": ref("Receipt"),
            },
            ["video", "creditsUsed", "monthlyUsage", "_receipt"],
        ),
        "BundleStatus": _object({"video": ref("SourceBundle")}, ["video"]),
        "CaptionsRequest": _object(
            {
                "videoId": ID,
                "script": {
                    "type": "string",
                    "description": "Default: the bundle's script. "
                    "A new script becomes the bundle's script.",
                },
                "captionStyle": {
                    "type": "string",
                    "enum": list(CAPTION_STYLES),
                    "default": "clean",
                },
                "burnIn": {"type": "boolean", "default": True},
            },
            ["videoId"],
            closed=False,
        ),
        "CompositeRequest": _object(
            {
                "videoId": ID,
                "captionCues": {
                    "type": "array",
                    "items": ref("CaptionCue"),
                    "maxItems": 1000,
                    "description": "Default: the saved cues.",
                },
                "captionStyle": {"type": "string", "enum": list(CAPTION_STYLES)},
                "burnIn": {"type": "boolean"},
                "audioConfig": ref("AudioConfigChanges"),
                "textOverlays": {"type": "array", "items": ref("TextOverlay"), "maxItems": 20},
                "voice": {"type": "string", "enum": list(VOICES)},
                "musicTrack": {"type": "string", "enum": list(MUSIC_TRACKS)},
            },
            ["videoId"],
            closed=False,
        ),
        "CaptionsResponse": _object(
            {
                "videoId": ID,
                "captionCues": {"type": "array", "items": ref("CaptionCue")},
                "captionStyle": {"type": "string", "enum": list(CAPTION_STYLES)},
                "burnIn": {"type": "boolean"},
                "reused": {"type": "boolean"},
                "creditsUsed": {"type": "integer", "enum": [0, 1]},
                "monthlyUsage": ref("MonthlyUsage"),
                "compositeBody": ref("CompositeRequest"),
                "_receipt": ref("Receipt"),
            },
            [
                "videoId",
                "captionCues",
                "captionStyle",
                "burnIn",
                "reused",
                "creditsUsed",
                "monthlyUsage",
                "compositeBody",
                "_receipt",
            ],
        ),
        "CompositeClipsRequest": _object(
            {
                "clipIds": {
                    "type": "array",
                    "items": ID,
                    "minItems": 1,
                    "maxItems": MAX_CLIP_IDS,
                    "uniqueItems": True,
                },
                "transition": _object(
                    {
                        "type": {"type": "string", "enum": list(TRANSITIONS), "default": "cut"},
                        "durationSec": {
                            "type": "number",
                            "minimum": FADE_MIN_SEC,
                            "maximum": FADE_MAX_SEC,
                            "default": 0.5,
                        },
                    }
                ),
                "style": {
                    "type": "string",
                    "enum": list(CLIP_STYLE_MUSIC),
                    "default": "promo",
                    "description": "The music under the clips: promo (upbeat), calm, "
                    "corporate, plain (none).",
                },
                "duration": {
                    "type": ["string", "integer"],
                    "enum": ["5", "15", "30", 5, 15, 30],
                    "default": "15",
                },
                "aspect": {"type": "string", "enum": list(ASPECT_RATIOS), "default": "16:9"},
            },
            ["clipIds"],
            closed=False,
        ),
        "CompositeCompleted": _object(
            {
                "status": {"type": "string", "enum": ["completed"]},
                "composite": ref("Composite"),
                "creditsUsed": {"type": "integer", "enum": [1]},
                "monthlyUsage": ref("MonthlyUsage"),
                "jobToken": token,
                "statusEndpoint": endpoint,
                "_receipt": ref("Receipt"),
            },
            ["status", "composite", "creditsUsed", "monthlyUsage"],
        ),
        "CompositeAccepted": _object(
            {
                "status": {"type": "string", "enum": ["processing"]},
                "jobToken": token,
                "statusEndpoint": endpoint,
                "compositeId": ID,
                "_receipt": ref("Receipt"),
            },
            ["status", "jobToken", "statusEndpoint"],
        ),
        "CompositeStatus": _object(
            {
                "status": {"type": "string", "enum": STATUSES},
                "composite": ref("Composite"),
                "error": _object(
                    {"code": {"type": "string"}, "message": {"type": "string"}},
                    ["code", "message"],
                ),
                "creditsUsed": {"type": "integer", "enum": [0, 1]},
                "stage": {"type": "string", "description": "The worker's step while processing."},
                "progress": {"type": "number", "minimum": 0, "maximum": 1},
            },
            ["status", "creditsUsed"],
        ),
        "CallbackAck": _object(
            {
                "status": {"type": "string", "enum": STATUSES},
                "creditsUsed": {"type": "integer", "minimum": 0},
            },
            ["status", "creditsUsed"],
        ),
    }


def paths(
    ref: Ref, json: Callable[..., dict[str, Any]], errors: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    def body(name: str) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": ref(name)}}}

    set_cookie = {
        "Set-Cookie": {
            "description": "The session cookie: signed, HttpOnly, SameSite=Lax, Max-Age = the "
            "session lifetime, Secure when configured.",
            "schema": {"type": "string"},
        }
    }
    write_note = (
        " Cookie-authenticated: send the session cookie and an `Origin` (or `Referer`) of the "
        "dashboard (else 403 `csrf_failed`). API keys are refused (401)."
    )
    composite_answers = {
        "200": json(ref("CompositeCompleted"), "Rendered, verified and charged (1 credit)."),
        "202": json(
            ref("CompositeAccepted"),
            "Dispatched with a hold of 1 credit; poll the statusEndpoint with the jobToken.",
        ),
    }
    return {
        "/api/auth/session": {
            "post": {
                "operationId": "signIn",
                "summary": "Sign in to the dashboard; sets the session cookie.",
                "description": "An `Origin`/`Referer` other than a dashboard origin is 403 "
                "`csrf_failed`. The active business starts as the first active business the "
                "user owns or belongs to.",
                "requestBody": body("SessionRequest"),
                "responses": {
                    "200": {**json(ref("SessionResponse"), "Signed in."), "headers": set_cookie},
                    **errors(400, 401, 403, 413),
                },
            },
            "delete": {
                "operationId": "signOut",
                "summary": "Sign out: the session ends (its cookie stops working everywhere).",
                "description": write_note.strip(),
                "security": SESSION_SECURITY,
                "responses": {
                    "200": json(ref("SignedOut"), "Signed out; the cookie is cleared."),
                    **errors(401, 403),
                },
            },
        },
        "/api/auth/active-business": {
            "post": {
                "operationId": "switchBusiness",
                "summary": "Switch the session's active business (a business the user owns or "
                "whose team they belong to; any other id is 404).",
                "description": write_note.strip(),
                "security": SESSION_SECURITY,
                "requestBody": body("ActiveBusinessRequest"),
                "responses": {
                    "200": json(ref("ActiveBusinessResponse"), "Switched."),
                    **errors(400, 401, 403, 404, 413),
                },
            },
        },
        "/api/businesses/me/video": {
            "post": {
                "operationId": "createSourceBundle",
                "summary": "Create a commercial source bundle: script, audio configuration, "
                "source shots, compositing guidance. Same validation and credits as the v1 "
                "create.",
                "description": "Needs `create_video` in a team workspace." + write_note,
                "security": SESSION_SECURITY,
                "requestBody": body("CreateBundleRequest"),
                "responses": {
                    "200": json(ref("CreateBundleResponse"), "The bundle is being generated."),
                    **errors(400, 401, 403, 409, 413, 429, 503),
                },
            },
            "get": {
                "operationId": "getSourceBundle",
                "summary": "A bundle's (or composite's) status with signed links; "
                "`download=1` redirects to the file.",
                "security": SESSION_SECURITY,
                "parameters": [
                    {"name": "id", "in": "query", "required": True, "schema": ID},
                    {
                        "name": "download",
                        "in": "query",
                        "description": "1: 302 to a short-lived signed link of the MP4 "
                        "(409 `not_ready` until completed).",
                        "schema": {"type": "string", "enum": ["1", "true"]},
                    },
                ],
                "responses": {
                    "200": json(ref("BundleStatus"), "The bundle."),
                    "302": {"description": "Location: a short-lived signed link to the MP4."},
                    **errors(400, 401, 403, 404, 409),
                },
            },
        },
        "/api/businesses/me/video/captions": {
            "post": {
                "operationId": "createCaptions",
                "summary": "Caption cues timed to the narration; saved on the video. The same "
                "script and timing again returns the saved cues free (`reused: true`).",
                "description": "1 credit when new cues are generated." + write_note,
                "security": SESSION_SECURITY,
                "requestBody": body("CaptionsRequest"),
                "responses": {
                    "200": json(ref("CaptionsResponse"), "The cues and a composite body."),
                    **errors(400, 401, 403, 404, 409, 413, 429, 503),
                },
            },
        },
        "/api/businesses/me/video/composite-clips": {
            "post": {
                "operationId": "compositeClips",
                "summary": "Stitch 1-10 completed clips of the active business into one MP4.",
                "description": "Charged 1 credit only when the compositor returns a verified "
                "output (held meanwhile, released on failure)." + write_note,
                "security": SESSION_SECURITY,
                "requestBody": body("CompositeClipsRequest"),
                "responses": {
                    **composite_answers,
                    **errors(400, 401, 403, 404, 409, 413, 429, 503),
                },
            },
        },
        "/api/businesses/me/video/composite": {
            "post": {
                "operationId": "composite",
                "summary": "The final commercial: narration, music, native audio, captions, "
                "allowed overlays, the plan's watermark, duration normalized to the slot.",
                "description": "Charged 1 credit only when the compositor returns a verified "
                "output. `voice: premium` checks the premium narration provider before any "
                "hold (503 `narration_unavailable`)." + write_note,
                "security": SESSION_SECURITY,
                "requestBody": body("CompositeRequest"),
                "responses": {
                    **composite_answers,
                    **errors(400, 401, 403, 404, 409, 413, 429, 503),
                },
            },
            "get": {
                "operationId": "pollComposite",
                "summary": "Poll a composite job by its token.",
                "security": SESSION_SECURITY,
                "parameters": [
                    {
                        "name": "jobToken",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "string"},
                    },
                ],
                "responses": {
                    "200": json(ref("CompositeStatus"), "The job's status."),
                    **errors(400, 401, 403, 404),
                },
            },
        },
        "/api/compositor/callback": {
            "post": {
                "operationId": "compositorCallback",
                "summary": "The compositor worker's signed completion callback (CONTRACT §6).",
                "description": "Headers `X-Compositor-Timestamp` and `X-Compositor-Signature: "
                "v1=<hex HMAC-SHA256>` over `timestamp.POST.path.body` with a secret of "
                "`NEARIQ_COMPOSITOR_SECRETS`. The body is the worker's job status.",
                "security": [{"CompositorSignature": []}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                "responses": {
                    "200": json(ref("CallbackAck"), "Applied (idempotent)."),
                    **errors(400, 401, 404, 413),
                },
            },
        },
    }


SECURITY_SCHEMES = {
    "DashboardSession": {"type": "apiKey", "in": "cookie", "name": "neariq_session"},
    "CompositorSignature": {"type": "apiKey", "in": "header", "name": "X-Compositor-Signature"},
}
