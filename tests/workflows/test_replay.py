"""Recorded histories must replay against today's workflow code.

A change that breaks determinism (reordered activities, a new timer without ``workflow.patched``)
fails here. ``histories/current`` holds runs of today's code; each other folder holds runs from
before a patch (named after it), which stand for workflows that were in flight when it landed.
After an intended change guarded by ``workflow.patched("<id>")``: move ``current`` to
``before-<id>``, then record anew with
    FINSYNC_RECORD_HISTORIES=1 .venv/bin/pytest tests/workflows
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from finsync.config import TemporalSettings
from finsync.temporal import data_converter, interceptors
from worker import WORKFLOWS

HISTORY_ROOT = Path(__file__).resolve().parent.parent / "histories"
HISTORIES = sorted(HISTORY_ROOT.glob("*/*.json"))


def test_every_process_has_recorded_histories():
    current = list(HISTORY_ROOT.glob("current/*.json"))
    for process in ("expense", "sweep", "reconcile", "payment_run", "procurement", "payroll", "payroll_entity", "payroll_sweep"):
        assert any(p.name.startswith(f"{process}-") for p in current), f"no recorded {process} history"
    assert len(HISTORIES) > len(current), "histories from before a patch are missing"


@pytest.mark.parametrize("path", HISTORIES, ids=[f"{p.parent.name}/{p.stem}" for p in HISTORIES])
async def test_history_replays(path: Path):
    """With the interceptors every worker carries (correlation, and tracing where the SDK is installed)."""
    recorded_id = path.with_suffix(".workflow-id")   # histories recorded before ids were kept replay under their name
    workflow_id = recorded_id.read_text().strip() if recorded_id.exists() else path.stem  # noqa: ASYNC240
    history = WorkflowHistory.from_json(workflow_id, path.read_text())  # noqa: ASYNC240 - a small file in a test
    replayer = Replayer(workflows=WORKFLOWS, data_converter=data_converter(TemporalSettings()), interceptors=interceptors())
    await replayer.replay_workflow(history)
