"""Composite job tokens: opaque to clients, signed, bound to one business.

A token names the composite row and the business it was issued to, signed with the API's
secret (itsdangerous, its own salt so no other signed value of the API passes as one). A token
from another business, or any token that does not verify, is ``not_found``: it never tells a
caller that another business's composite exists. Tokens do not expire: a composite stays
readable by its business for as long as the row exists.
"""

from __future__ import annotations

from itsdangerous import BadSignature, URLSafeSerializer

from api.errors import InvalidRequest, NotFound

SALT = "neariq.composite-job"
MAX_TOKEN_CHARS = 300
JOB_PREFIX = "cmp_"
ROW_PREFIX = "vg_"


class JobTokens:
    def __init__(self, secret: str) -> None:
        self.serializer = URLSafeSerializer(secret, salt=SALT)

    def issue(self, composite_id: str, business_id: str) -> str:
        return str(self.serializer.dumps({"c": composite_id, "b": business_id}))

    def composite_of(self, token: str | None, business_id: str) -> str:
        """The composite id the token names, if it was issued to ``business_id``."""
        if not token:
            raise InvalidRequest("jobToken is required", field="jobToken")
        if len(token) > MAX_TOKEN_CHARS:
            raise NotFound("no such composite job", field="jobToken")
        try:
            data = self.serializer.loads(token)
        except BadSignature:
            raise NotFound("no such composite job", field="jobToken") from None
        if not isinstance(data, dict) or data.get("b") != business_id:
            raise NotFound("no such composite job", field="jobToken")
        return str(data.get("c"))


def job_id_of(composite_id: str) -> str:
    """The worker's ``jobId`` for a composite row: derived, so a resend never renders twice."""
    return JOB_PREFIX + composite_id.removeprefix(ROW_PREFIX)


def composite_id_of(job_id: str) -> str | None:
    if not job_id.startswith(JOB_PREFIX):
        return None
    return ROW_PREFIX + job_id.removeprefix(JOB_PREFIX)
