"""``finsync reconcile``: reconcile a day now, without Temporal, and show what was found.

It runs the scheduled reconciliation's own comparison (``activities.reconcile.Reconciler``)
against the configured ERP, bank and integration store, so it works wherever those answer (the
local stack included); each entity's result is kept in the store and announced in the feed like
a scheduled one's.
"""

from __future__ import annotations

import json
import uuid
from datetime import date

from rich import box
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from activities.reconcile import Reconciler, ReconcileRequest, ReconciliationSummary
from activities.reconcile_compare import Difference
from connectors.errors import VendorError
from finsync.store import IntegrationStore
from finsync.terminal import money, text


class NotReconciled(Exception):
    """The ERP or bank could not be read, or refused; its message is one line for the user."""


async def reconcile(reconciler: Reconciler, entities: list[str],
                    day: date) -> list[tuple[ReconciliationSummary, list[Difference]]]:
    """Each entity's day reconciled and kept, with the differences found."""
    run = uuid.uuid4().hex
    results = []
    for entity in entities:
        try:
            summary = await reconciler.reconcile(ReconcileRequest(entity=entity, day=day,
                                                                  run_key=f"command/{run}/{entity}"))
        except VendorError as error:
            raise NotReconciled(f"{entity} {day} not reconciled: {' '.join(str(error).split())}") from error
        results.append((summary, differences_of(reconciler.store, summary.id)))
    return results


def differences_of(store: IntegrationStore, reconciliation_id: int) -> list[Difference]:
    row = store.reconciliation(reconciliation_id)
    return [Difference.model_validate(d) for d in json.loads(row.differences)] if row else []


def render(summary: ReconciliationSummary, differences: list[Difference]) -> RenderableType:
    line = Text.assemble((summary.headline, "green" if not differences else "bold"),
                         f"  (reconciliation {summary.id})")
    if not differences:
        return line
    table = Table(box=box.SIMPLE_HEAD, show_lines=True)
    table.add_column("difference", no_wrap=True)
    table.add_column("what", overflow="fold", ratio=3)
    table.add_column("finsync", overflow="fold", ratio=1)
    table.add_column("ERP", overflow="fold", ratio=1)
    table.add_column("bank", overflow="fold", ratio=1)
    table.add_column("expected / found", no_wrap=True, justify="right")
    for d in differences:
        amounts = f"{money(d.expected) or '-'} / {money(d.found) or '-'}"
        table.add_row(text(d.kind.value, "bold"), text(d.summary), text("\n".join(d.feed)), text("\n".join(d.erp)),
                      text("\n".join(d.bank)), text(amounts))
    return Group(line, table)
