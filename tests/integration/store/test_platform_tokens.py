"""API tokens, on every adapter of the platform store."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from flowapp.store.platform import InvalidValue, NotFound, PlatformStore, tokens
from flowapp.store.platform.rules import TOKEN_TOUCH_SECONDS

from .platform_factories import T0, platform_store_fixture  # noqa: F401 (the fixture)


def test_a_token_is_shown_once_and_only_its_hash_is_kept(platform_store: PlatformStore) -> None:
    record, plaintext = platform_store.create_token("ci", role="developer", now=T0)
    assert plaintext.startswith("fa_") and len(plaintext) == 46
    assert (record.name, record.role, record.created_at) == ("ci", "developer", T0)
    assert record.prefix == plaintext[:8]
    assert record.secret_hash == hashlib.sha256(plaintext.encode()).hexdigest()
    assert (record.last_used_at, record.revoked_at) == (None, None)
    stored = platform_store.list_tokens()
    assert stored == [record]
    assert plaintext not in repr(stored)


def test_the_right_token_verifies(platform_store: PlatformStore) -> None:
    record, plaintext = platform_store.create_token("ci", role="admin", now=T0)
    platform_store.create_token("other", role="viewer", now=T0)
    found = platform_store.verify_token(plaintext, now=T0 + 1)
    assert found is not None and found.id == record.id and found.role == "admin"
    assert found.last_used_at == T0 + 1


@pytest.mark.parametrize(
    "presented",
    ["", "fa_", "Bearer x", "fa_" + "é" * 43, "fa_" + "A" * 42, "fa_" + "A" * 44, None],
)
def test_malformed_tokens_do_not_verify(
    platform_store: PlatformStore, presented: str | None
) -> None:
    platform_store.create_token("ci", role="admin", now=T0)
    assert platform_store.verify_token(presented, now=T0) is None  # type: ignore[arg-type]


def test_a_wrong_token_does_not_verify(platform_store: PlatformStore) -> None:
    platform_store.create_token("ci", role="admin", now=T0)
    assert platform_store.verify_token(tokens.new_token(), now=T0) is None


def test_a_token_with_the_right_prefix_is_compared_in_constant_time(
    platform_store: PlatformStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, plaintext = platform_store.create_token("ci", role="admin", now=T0)
    forged = plaintext[:-1] + ("A" if plaintext[-1] != "A" else "B")  # same prefix
    compared: list[tuple[str, str]] = []

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return hmac.compare_digest(a, b)

    monkeypatch.setattr(tokens, "compare_digest", spy)
    assert platform_store.verify_token(forged, now=T0) is None
    assert compared == [(tokens.hash_token(plaintext), tokens.hash_token(forged))]
    assert platform_store.verify_token(plaintext, now=T0) is not None
    assert len(compared) == 2


def test_a_revoked_token_does_not_verify(platform_store: PlatformStore) -> None:
    record, plaintext = platform_store.create_token("ci", role="admin", now=T0)
    revoked = platform_store.revoke_token(record.id, now=T0 + 5)
    assert revoked.revoked_at == T0 + 5
    assert platform_store.verify_token(plaintext, now=T0 + 6) is None
    again = platform_store.revoke_token(record.id, now=T0 + 9)
    assert again.revoked_at == T0 + 5  # the first revocation stands
    assert platform_store.list_tokens() == [again]
    with pytest.raises(NotFound):
        platform_store.revoke_token(record.id + 100, now=T0)


def test_use_is_recorded_at_most_once_a_minute(platform_store: PlatformStore) -> None:
    _, plaintext = platform_store.create_token("ci", role="admin", now=T0)
    times = [T0 + 100, T0 + 130, T0 + 100 + TOKEN_TOUCH_SECONDS - 1, T0 + 100 + TOKEN_TOUCH_SECONDS]
    seen = []
    for now in times:
        found = platform_store.verify_token(plaintext, now=now)
        assert found is not None
        seen.append(found.last_used_at)
    assert seen == [T0 + 100, T0 + 100, T0 + 100, T0 + 160]
    assert platform_store.list_tokens()[0].last_used_at == T0 + 160


def test_tokens_are_listed_by_id_and_counted_when_live(platform_store: PlatformStore) -> None:
    assert platform_store.count_tokens() == 0
    first, _ = platform_store.create_token("first", role="admin", now=T0)
    second, _ = platform_store.create_token("second", role="viewer", now=T0)
    assert second.id > first.id
    assert platform_store.count_tokens() == 2
    platform_store.revoke_token(first.id, now=T0)
    assert platform_store.count_tokens() == 1
    assert [token.name for token in platform_store.list_tokens()] == ["first", "second"]


@pytest.mark.parametrize(("name", "role"), [("ci", "root"), ("ci", "Admin"), (" ", "admin")])
def test_roles_and_names_are_checked(platform_store: PlatformStore, name: str, role: str) -> None:
    with pytest.raises(InvalidValue):
        platform_store.create_token(name, role=role, now=T0)
    assert platform_store.count_tokens() == 0


def test_a_token_limited_to_apps_keeps_them_through_verification_and_revocation(
    platform_store: PlatformStore,
) -> None:
    record, plaintext = platform_store.create_token(
        "ci", role="developer", now=T0, apps=["shop", "cart", "shop"]
    )
    assert record.apps == ("cart", "shop")
    verified = platform_store.verify_token(plaintext, now=T0 + 1)
    assert verified is not None and verified.apps == ("cart", "shop")
    assert platform_store.list_tokens()[0].apps == ("cart", "shop")
    assert platform_store.revoke_token(record.id, now=T0 + 2).apps == ("cart", "shop")
    unlimited, _ = platform_store.create_token("ops", role="viewer", now=T0)
    assert unlimited.apps == ()


@pytest.mark.parametrize(
    ("role", "apps"), [("admin", ["shop"]), ("developer", ["Shop"]), ("viewer", ["a/b"])]
)
def test_app_limits_are_checked(platform_store: PlatformStore, role: str, apps: list[str]) -> None:
    with pytest.raises(InvalidValue):
        platform_store.create_token("ci", role=role, now=T0, apps=apps)
    assert platform_store.count_tokens() == 0
