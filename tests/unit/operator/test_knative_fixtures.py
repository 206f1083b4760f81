"""The Knative CRDs under tests/fixtures/knative are unchanged copies of the team's reference."""

from __future__ import annotations

import pytest

from tests.k8s.schemas import KNATIVE, SHARED_KNATIVE, crd_for


@pytest.mark.skipif(not SHARED_KNATIVE.is_dir(), reason="the reference Knative CRDs are not here")
def test_copies_are_unchanged() -> None:
    copies = [p for p in KNATIVE.rglob("*") if p.is_file() and p.name != "SOURCE.md"]
    assert len(copies) == 12
    for copy in copies:
        original = SHARED_KNATIVE / copy.relative_to(KNATIVE)
        assert copy.read_bytes() == original.read_bytes(), copy


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("serving.knative.dev/v1", "Service"),
        ("eventing.knative.dev/v1", "Broker"),
        ("eventing.knative.dev/v1", "Trigger"),
        ("sources.knative.dev/v1", "PingSource"),
        ("sources.knative.dev/v1beta1", "KafkaSource"),
        ("sources.knative.dev/v1alpha1", "RedisStreamSource"),
        ("flows.knative.dev/v1", "Sequence"),
        ("flows.knative.dev/v1", "Parallel"),
    ],
)
def test_every_kind_the_operator_creates_has_its_crd(api_version: str, kind: str) -> None:
    assert crd_for(api_version, kind) is not None
