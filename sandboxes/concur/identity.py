"""Identity v4 (SCIM): who a Concur user is, their employee number and their manager."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Request
from sqlmodel import select

from sandboxes.concur.auth import require_token
from sandboxes.concur.context import base_url, concur
from sandboxes.concur.errors import ScimError
from sandboxes.concur.jsonio import ConcurJSONResponse
from sandboxes.concur.models import ConcurUser
from sandboxes.kit.db import session

CORE_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
ENTERPRISE_SCHEMA = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"

# `attribute eq "value"`, the one filter form the sandbox supports.
_FILTER = re.compile(r'^\s*(?:' + re.escape(ENTERPRISE_SCHEMA) + r':)?(employeeNumber|userName|id)\s+eq\s+"([^"]*)"\s*$')
_COLUMNS = {"employeeNumber": ConcurUser.employee_number, "userName": ConcurUser.email, "id": ConcurUser.user_id}

router = APIRouter(prefix="/profile/identity/v4", dependencies=[Depends(require_token)])


def scim_user(user: ConcurUser, manager: ConcurUser | None, root: str) -> dict[str, Any]:
    location = f"{root}/profile/identity/v4/Users/{user.user_id}"
    enterprise: dict[str, Any] = {"employeeNumber": user.employee_number, "costCenter": user.cost_center,
                                  "companyId": user.company_code}
    if manager is not None:
        enterprise["manager"] = {"value": manager.user_id, "employeeNumber": manager.employee_number,
                                 "displayName": f"{manager.given_name} {manager.family_name}",
                                 "$ref": f"{root}/profile/identity/v4/Users/{manager.user_id}"}
    return {
        "schemas": [CORE_SCHEMA, ENTERPRISE_SCHEMA],
        "id": user.user_id,
        "userName": user.email,
        "displayName": f"{user.given_name} {user.family_name}",
        "name": {"givenName": user.given_name, "familyName": user.family_name,
                 "formatted": f"{user.given_name} {user.family_name}"},
        "active": user.active,
        "emails": [{"value": user.email, "type": "work", "primary": True}],
        "meta": {"resourceType": "User", "created": user.created_at, "lastModified": user.created_at,
                 "location": location},
        ENTERPRISE_SCHEMA: enterprise,
    }


def _with_manager(db: Any, user: ConcurUser) -> tuple[ConcurUser, ConcurUser | None]:
    return user, db.get(ConcurUser, user.manager_user_id) if user.manager_user_id else None


@router.get("/Users/{user_id}")
async def get_user(user_id: str, request: Request) -> ConcurJSONResponse:
    with session(concur(request).engine) as db:
        user = db.get(ConcurUser, user_id)
        if user is None:
            raise ScimError(404, f"User {user_id} not found.")
        return ConcurJSONResponse(scim_user(*_with_manager(db, user), base_url(request)))


@router.get("/Users")
async def list_users(request: Request, filter: str | None = None, startIndex: int = 1,  # noqa: A002, N803
                     count: int = 100) -> ConcurJSONResponse:
    query = select(ConcurUser).order_by(ConcurUser.employee_number)
    if filter:
        match = _FILTER.match(filter)
        if match is None:
            raise ScimError(400, f"Unsupported filter {filter!r}; use employeeNumber, userName or id with eq.",
                            "invalidFilter")
        query = query.where(_COLUMNS[match.group(1)] == match.group(2))
    with session(concur(request).engine) as db:
        users = db.exec(query).all()
        start = max(startIndex, 1) - 1
        page = users[start:start + max(count, 0)]
        resources = [scim_user(*_with_manager(db, u), base_url(request)) for u in page]
    return ConcurJSONResponse({"schemas": [LIST_SCHEMA], "totalResults": len(users), "startIndex": start + 1,
                               "itemsPerPage": len(resources), "Resources": resources})
