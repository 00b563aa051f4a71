"""Write the integration store's next migration from what its tables now say (for developers):

    python -m finsync.store.revision "payment route: payment information id"

A scratch SQLite store is upgraded to the newest revision and compared with the tables; what
differs is written as the next numbered revision in finsync/store/migrations/versions/, to read
(autogenerate misses renames and server defaults), test and commit with the change to the tables.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from finsync.store.database import StoreTable, connect
from finsync.store.migrate import alembic_config, revisions, upgrade_to_head


def write_revision(message: str) -> Path | None:
    """The revision written; None when the tables and the migrations already agree."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = connect(f"sqlite:///{scratch}/store.db")
        try:
            upgrade_to_head(engine)
            with engine.begin() as connection:
                if not compare_metadata(MigrationContext.configure(connection), StoreTable.metadata):
                    return None
                written = command.revision(alembic_config(connection), message, autogenerate=True,
                                           rev_id=f"{len(revisions()) + 1:04d}")
        finally:
            engine.dispose()
    assert written is not None and not isinstance(written, list)
    return Path(written.path)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].strip():
        sys.exit('usage: python -m finsync.store.revision "what the revision changes"')
    path = write_revision(sys.argv[1])
    print(path or "nothing to write: the tables and the migrations agree")
