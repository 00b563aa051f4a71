"""Alembic's environment for the integration store. finsync.store.migrate runs it on the connection
it hands over (config.attributes), inside that connection's transaction; so does
finsync.store.revision when it writes a new revision."""

from __future__ import annotations

from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy.types import TypeDecorator

import finsync.store  # noqa: F401  (every module's tables, in the metadata below)
from finsync.store.database import StoreTable


def render_item(kind: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    """sqlmodel's column types (AutoString, UTCDateTime) written as the SQLAlchemy types they store
    as, so that revisions do not depend on sqlmodel."""
    if kind == "type" and isinstance(item, TypeDecorator) and type(item).__module__.startswith("sqlmodel."):
        return f"sa.{item.impl_instance!r}"
    return False


context.configure(connection=context.config.attributes["connection"], target_metadata=StoreTable.metadata,
                  render_as_batch=True,   # SQLite alters a table by copying it: revisions must work there too
                  render_item=render_item)
with context.begin_transaction():
    context.run_migrations()
