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

from finsync.store.database import connect
from finsync.store.migrate import alembic_config, scripts, upgrade_to_head


def write_revision(message: str) -> Path:
    rev_id = f"{sum(1 for _ in scripts().walk_revisions()) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        engine = connect(f"sqlite:///{scratch}/store.db")
        try:
            upgrade_to_head(engine)
            with engine.begin() as connection:
                written = command.revision(alembic_config(connection), message, autogenerate=True, rev_id=rev_id)
        finally:
            engine.dispose()
    assert written is not None and not isinstance(written, list)
    return Path(written.path)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].strip():
        sys.exit('usage: python -m finsync.store.revision "what the revision changes"')
    print(write_revision(sys.argv[1]))
