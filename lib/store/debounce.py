"""Debounced writes of remembered choices: many slider moves within a few seconds become one database write."""

from __future__ import annotations

import logging
import threading
from typing import Any

log = logging.getLogger(__name__)


class SettingsWriter:
    """Collects each workspace's changed settings and writes them in one transaction per flush.

    Pages call `put` on every rerun that changed something (a dict update, no I/O); `flush` (a server thread
    every `period` seconds, or `flush_workspace` before a new session reads them back) writes what is pending.
    A class moving sliders together makes one transaction per period, not one per student.
    """

    def __init__(self, store: Any, period: float = 5.0) -> None:
        self.store = store
        self.period = period
        self._lock = threading.Lock()
        self._pending: dict[str, dict[str, Any]] = {}
        self._stop = threading.Event()
        self.writes = 0  # transactions written (for tests)

    def put(self, workspace_id: str, values: dict[str, Any]) -> None:
        """Remember changed values for the next flush (later values of a key replace earlier ones)."""
        if values:
            with self._lock:
                self._pending.setdefault(workspace_id, {}).update(values)

    def pending(self, workspace_id: str) -> dict[str, Any]:
        """What is waiting to be written for a workspace (a copy)."""
        with self._lock:
            return dict(self._pending.get(workspace_id, {}))

    def flush_workspace(self, workspace_id: str) -> None:
        """Write one workspace's pending values now."""
        with self._lock:
            values = self._pending.pop(workspace_id, None)
        if values:
            self._write({workspace_id: values})

    def flush(self) -> None:
        """Write everything pending, all workspaces in one transaction."""
        with self._lock:
            batch, self._pending = self._pending, {}
        if batch:
            self._write(batch)

    def _write(self, batch: dict[str, dict[str, Any]]) -> None:
        try:
            written = self.store.set_settings_many(batch)
            self.writes += 1
        except Exception:  # a database hiccup: the choices are only convenience
            log.warning("settings of %d workspaces could not be written", len(batch), exc_info=True)
            return
        if len(written) < len(batch):  # deleted meanwhile (expired, or by the teacher): nothing to keep
            log.info("settings of %d unknown workspaces dropped", len(batch) - len(written))

    def run(self) -> None:
        """The flushing loop (a daemon thread's target) until `stop`."""
        while not self._stop.wait(self.period):
            self.flush()
        self.flush()

    def start(self) -> threading.Thread:
        """Run the loop in a daemon thread."""
        thread = threading.Thread(target=self.run, name="settings-writer", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        """End the loop after a last flush."""
        self._stop.set()
