"""``python -m sandboxes.s4hana [--port 8706] [--db PATH]``: the sandbox on its own, on loopback,
with its built-in communication user and webhook secret (which serve loopback only). To run it
with credentials of a deployment's own, or beyond loopback, use ``finsync sandbox s4hana``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import uvicorn

from sandboxes.s4hana.app import DEFAULT_PORT, create_app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m sandboxes.s4hana", description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--db", type=Path, default=Path(".finsync") / "sandboxes" / "s4hana.db",
                        help="the SQLite file its state lives in (created and seeded if missing)")
    options = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")   # each callback delivery
    uvicorn.run(create_app(options.db), host="127.0.0.1", port=options.port, log_level="warning")


if __name__ == "__main__":
    main()
