"""Recorded histories must replay against today's workflow code.

A change that breaks determinism (reordered activities, a new timer without ``workflow.patched``)
fails here. Re-record after an intended, versioned change with:
    FINSYNC_RECORD_HISTORIES=1 .venv/bin/pytest tests/workflows
"""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.worker import Replayer

from finsync.interceptors import CorrelationInterceptor
from workflows.expense.workflow import ExpenseReimbursementWorkflow

HISTORIES = sorted((Path(__file__).resolve().parent.parent / "histories").glob("expense-*.json"))


def test_histories_are_recorded():
    assert len(HISTORIES) >= 6, "recorded expense histories are missing from tests/histories"


@pytest.mark.parametrize("path", HISTORIES, ids=[p.stem for p in HISTORIES])
async def test_history_replays(path: Path):
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    replayer = Replayer(workflows=[ExpenseReimbursementWorkflow], data_converter=pydantic_data_converter,
                        interceptors=[CorrelationInterceptor()])
    await replayer.replay_workflow(history)
