"""API keys: ``niq_`` + 32 url-safe random characters; only a SHA-256 hash is stored.

A key carries ~190 bits of randomness, so a fast hash is enough (nothing to brute-force) and
lets the lookup be one indexed equality. The stored hash is still compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac

from api.ids import random_token

KEY_PREFIX = "niq_"
KEY_RANDOM_CHARS = 32
VISIBLE_CHARS = 8  # "niq_" + 8: enough to tell keys apart in a list, useless to an attacker
MAX_PRESENTED_CHARS = 200  # longer header values are not keys; refuse before hashing


def generate_key() -> str:
    return KEY_PREFIX + random_token(KEY_RANDOM_CHARS)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def visible_prefix(key: str) -> str:
    return key[: len(KEY_PREFIX) + VISIBLE_CHARS]


def hashes_match(stored_hash: str, presented_key: str) -> bool:
    return hmac.compare_digest(stored_hash, hash_key(presented_key))
