"""Suppliers: ``GET /api/suppliers`` and ``GET /api/suppliers/{id}`` (scope core.supplier.read).

Read only through the API; the driver (``/_sandbox/suppliers/...``) puts one on hold or makes it
inactive, as a supplier manager would in Coupa's UI.
"""

from __future__ import annotations

from fastapi import APIRouter

from sandboxes.coupa import auth
from sandboxes.coupa.reads import add_read_routes
from sandboxes.coupa.views import supplier_view

router = APIRouter(prefix="/api/suppliers", dependencies=[auth.read("supplier")])
add_read_routes(router, "suppliers", "supplier", supplier_view)
