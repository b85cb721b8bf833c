"""docs/api.md agrees with the OpenAPI document: every route has a section with a curl line."""

from __future__ import annotations

import re

from api.openapi import openapi_document
from compositor.settings import REPO_ROOT


def sections(markdown: str) -> dict[str, str]:
    parts = re.split(r"^## ", markdown, flags=re.MULTILINE)[1:]
    return {part.splitlines()[0].strip(): part for part in parts}


def test_every_documented_route_has_a_section_with_a_curl_example():
    docs = sections((REPO_ROOT / "docs" / "api.md").read_text(encoding="utf-8"))
    for path, operations in openapi_document()["paths"].items():
        for method in operations:
            title = f"{method.upper()} {path}"
            assert title in docs, f"docs/api.md has no section {title!r}"
            assert "curl " in docs[title], f"{title}: no curl example"


def test_every_error_code_of_the_document_is_in_the_docs():
    docs = (REPO_ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    from api.openapi import ERROR_CODES

    for codes in ERROR_CODES.values():
        for code in codes:
            assert f"`{code}`" in docs, code
