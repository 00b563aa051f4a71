"""Approvals: ``GET /api/approvals[/{id}]`` (e.g. ``?approvable-type=RequisitionHeader&status=pending``)
and ``PUT /api/approvals/{id}/approve|reject|hold`` (optional body ``{"note": "..."}``).

| action  | from             | approval  | requisition                                          |
|---------|------------------|-----------|------------------------------------------------------|
| approve | pending, on_hold | approved  | approved, and its purchase orders made in buyer_hold |
| reject  | pending, on_hold | rejected  | withdrawn (the reference's mapping of a rejection)   |
| hold    | pending          | on_hold   | stays pending_approval                               |

Repeating the action an approval already shows answers 200 with it, changing nothing; any other
move from approved or rejected is a 400. The ``on_hold`` status name is a sandbox choice.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy.engine import Connection

from sandboxes.coupa import auth
from sandboxes.coupa import tables as t
from sandboxes.coupa.bodies import json_object, text_value
from sandboxes.coupa.changes import change
from sandboxes.coupa.context import coupa
from sandboxes.coupa.errors import CoupaError
from sandboxes.coupa.ordering import create_orders
from sandboxes.coupa.reads import add_read_routes, find
from sandboxes.coupa.views import approval_view
from sandboxes.kit.jsonio import DecimalJSONResponse

PATH = "/api/approvals"
# action -> (statuses it may start from, the approval's status after, the requisition's status after)
ACTIONS = {"approve": (("pending", "on_hold"), "approved", "approved"),
           "reject": (("pending", "on_hold"), "rejected", "withdrawn"),
           "hold": (("pending",), "on_hold", None)}

reads = APIRouter(prefix=PATH, dependencies=[auth.read("approval")])
writes = APIRouter(prefix=PATH, dependencies=[auth.write("approval")])
add_read_routes(reads, "approvals", "approval", approval_view)


@writes.put("/{key}/{action}")
async def act(key: str, action: str, request: Request) -> DecimalJSONResponse:
    if action not in ACTIONS:
        raise CoupaError(404, "No such resource.")
    raw = await request.body()
    note = text_value(await json_object(request), "note", required=False) if raw.strip() else ""
    ctx = coupa(request)
    with ctx.engine.begin() as conn:
        approval = find(conn, t.approval, key, "approval")
        take(conn, approval, action, note, ctx.now())
        updated = t.by_id(conn, t.approval, approval["id"])
        assert updated is not None
        return DecimalJSONResponse(approval_view(conn, updated))


def take(conn: Connection, approval: dict[str, Any], action: str, note: str, now: str) -> None:
    starts, after, requisition_after = ACTIONS[action]
    if approval["status"] == after:
        return
    if approval["status"] not in starts:
        raise CoupaError(400, f"Approval {approval['id']} is {approval['status']}; it cannot be "
                              f"{'put on hold' if action == 'hold' else action + 'd'}.")
    requisition = t.by_id(conn, t.requisition, approval["approvable_id"])
    if requisition is None or requisition["status"] != "pending_approval":
        raise CoupaError(400, f"Approval {approval['id']}'s requisition is not pending approval.")
    decided = {"approval_date": now} if action != "hold" else {}
    change(conn, t.approval, approval["id"], now, status=after, note=note or approval["note"], **decided)
    if requisition_after is not None:
        change(conn, t.requisition, requisition["id"], now, status=requisition_after)
    if action == "approve":
        create_orders(conn, requisition, now)
