"""Activities are called by their typed methods; their registered names label steps and summaries."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def activity_name(method: Callable[..., Any]) -> str:
    """The name an ``@activity.defn`` method is registered under (e.g. ``erp.post_journal``): the
    exception step and the Web UI summary say it as the worker's registry and the history do."""
    definition = getattr(method, "__temporal_activity_definition", None)
    if definition is None:
        raise TypeError(f"{method!r} is not an activity (no @activity.defn)")
    return str(definition.name)
