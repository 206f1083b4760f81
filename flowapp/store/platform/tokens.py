"""API tokens: how they are made, what is stored of them, and how one is checked.

A token is ``fa_`` + 43 characters of ``secrets.token_urlsafe(32)``: 256 random bits,
with a prefix that secret scanners and people recognise. The store keeps its first 8
characters (to tell tokens apart on screen, and to find the candidates for a presented
token by an index) and the sha256 of the whole token; the token itself is shown once.

Why sha256 and not a slow KDF (bcrypt, scrypt, argon2): a KDF makes each guess of a
*low-entropy* secret expensive, so that a stolen hash of a password cannot be
dictionary-attacked. Here there is nothing to guess: the secret is 256 uniformly random
bits, and even at 10^12 hashes a second a preimage takes ~10^57 years. A KDF would
add nothing but ~100 ms of CPU to every API request, since every request is verified.

Verification compares the stored hash with ``hmac.compare_digest``, so the time it
takes does not depend on how many leading characters of a guess were right.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from hmac import compare_digest

from flowapp.store.platform.records import TokenRecord

TOKEN_PREFIX = "fa_"
PREFIX_LENGTH = 8  # shown in listings; "fa_" + 5 random characters
TOKEN_FORMAT = re.compile(r"fa_[A-Za-z0-9_-]{43}")


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(plaintext: str) -> str:
    return hashlib.sha256(plaintext.encode()).hexdigest()


def display_prefix(plaintext: str) -> str:
    return plaintext[:PREFIX_LENGTH]


def well_formed(plaintext: str) -> bool:
    """Cheap refusal of what cannot be a token, before any database access."""
    return isinstance(plaintext, str) and TOKEN_FORMAT.fullmatch(plaintext) is not None


def find_match(candidates: Iterable[TokenRecord], plaintext: str) -> TokenRecord | None:
    """The candidate whose stored hash is the hash of ``plaintext``, compared in
    constant time; every candidate is compared, so timing says nothing about which."""
    presented = hash_token(plaintext)
    found = None
    for candidate in candidates:
        if compare_digest(candidate.secret_hash, presented):
            found = candidate
    return found
