from __future__ import annotations

from collections.abc import Iterator

import pytest

from podium.store.base import Store
from podium.store.memory import MemoryStore

from .contract import FirstStepContract, StoreContract


class TestMemoryStore(StoreContract, FirstStepContract):
    @pytest.fixture
    def store(self) -> Iterator[Store]:
        store = MemoryStore()
        yield store
        store.close()
