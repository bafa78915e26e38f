"""Loaded models shared by all requests: a bounded LRU cache keyed by every model-group option.

rembg's server built a new session per request for years, and a cache keyed by the model's name alone
mixes up two devices or two weight files: the key here is the whole model group (model, weights, engine,
device, precision, threads, input size), as :meth:`cutkit.options.RemoveOptions.model_key` defines it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from cutkit import options as opt

Loader = Callable[..., Any]


def _load_remover(**model_options: Any) -> Any:
    from cutkit.api import Remover

    return Remover(**model_options)


class SessionCache:
    """At most ``size`` loaded removers, least recently used dropped first; thread-safe.

    Two requests that need the same model at once wait for one load instead of loading it twice.

    Args:
        size: how many models to keep loaded.
        loader: builds a remover from model-group options (default: :class:`cutkit.api.Remover`).
    """

    def __init__(self, *, size: int, loader: Loader = _load_remover) -> None:
        self.size = size
        self.loads = 0  # how many models were loaded: a test checks "two requests, one load"
        self._loader = loader
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()
        self._loading: dict[Hashable, threading.Lock] = {}

    def __len__(self) -> int:
        return len(self._items)

    def get(self, options: opt.RemoveOptions) -> Any:
        """The remover for ``options``' model group, loaded on first use."""
        key = options.model_key()
        found = self._lookup(key)
        if found is not None:
            return found
        with self._key_lock(key):
            found = self._lookup(key)  # another request may have loaded it while this one waited
            if found is not None:
                return found
            remover = self._loader(**options.group("model"))
            self._store(key, remover)
            return remover

    def _lookup(self, key: Hashable) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
            return None

    def _key_lock(self, key: Hashable) -> threading.Lock:
        with self._lock:
            return self._loading.setdefault(key, threading.Lock())

    def _store(self, key: Hashable, remover: Any) -> None:
        with self._lock:
            self.loads += 1
            self._items[key] = remover
            self._loading.pop(key, None)
            while len(self._items) > self.size:
                self._items.popitem(last=False)  # requests still using it keep it alive until they end
