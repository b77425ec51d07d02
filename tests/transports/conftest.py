from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.transports.brokers import Namespace, namespace


@pytest.fixture
def redis_ns() -> Iterator[Namespace]:
    with namespace("redis") as made:
        yield made


@pytest.fixture
def rabbitmq_ns() -> Iterator[Namespace]:
    with namespace("rabbitmq") as made:
        yield made


@pytest.fixture(params=["redis", "rabbitmq"])
def broker_ns(request: pytest.FixtureRequest) -> Iterator[Namespace]:
    with namespace(request.param) as made:
        yield made
