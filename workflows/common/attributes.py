"""Search attributes written when a process comes to rest, not at every step.

Each upsert is a history event and a visibility write; on the local stack that is about 5 ms of
server CPU, and upserting at every status change made them the largest cost a report adds to
the engine. So a process collects its changes and writes them in one upsert when it comes to rest
(waits for a person, a vendor's callback or finance) and when it ends. After a rest, the first
changes are written before the next step, so the list never shows a wait that is over. Between
two rests the list may lag by a step; the status query and the current details never do.

Runs that started before this existed keep upserting at every change (``workflow.patched``), so
their histories still replay.
"""

from __future__ import annotations

from typing import Any

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

PATCH_ID = "search-attributes-at-rest"


class SearchAttributeBook:
    def __init__(self) -> None:
        self._pending: dict[str, SearchAttributeUpdate[Any]] = {}
        self._batched: bool | None = None
        self._woke = False

    def begin(self, *initial: SearchAttributeUpdate[Any]) -> None:
        """At the start of the run: decide the mode, and set what the starter did not set already."""
        self._batched = workflow.patched(PATCH_ID)
        if not self._batched:
            workflow.upsert_search_attributes(list(initial))
            return
        current = workflow.info().typed_search_attributes
        self.set(*[u for u in initial if current.get(u.key) != u.value])

    def set(self, *updates: SearchAttributeUpdate[Any]) -> None:
        if not updates:
            return
        if not self._batched:
            workflow.upsert_search_attributes(list(updates))
            return
        for update in updates:
            self._pending[update.key.name] = update

    def at_rest(self) -> None:
        """The process is about to wait: make the list show where it stands."""
        self._publish()

    def woke(self) -> None:
        self._woke = True

    def before_step(self) -> None:
        """Before an activity: after a rest, the changes since waking are written at once."""
        if self._woke and self._pending:
            self._publish()
            self._woke = False

    def _publish(self) -> None:
        if self._pending:
            workflow.upsert_search_attributes(list(self._pending.values()))
            self._pending.clear()
