"""A payroll's net-pay file at scale: the pain.001 built from a stream of transfers, validated
against the official XSD, then sent to the bank sandbox and decided there.

    .venv/bin/python bench/pain001_build.py [--transfers 50000] [--compare]

It prints, for the transfers given:
- build: making the CreditTransfers alone (what the payroll activity's source costs), and
  writing the file from them (write_bulk_pain001), wall and CPU time, and the process's peak RSS;
- validate: the streaming lxml check (validate_pain001) finsync uses; with ``--compare`` also
  lxml on the whole tree and xmlschema's pure-Python validator, which takes minutes at 50,000;
- bank: the upload and the sandbox's ingestion (read, validated, stored: the time to its 202),
  the time until every transaction is decided, the rejected ones read back page by page, and
  the sandbox process's peak RSS. Two employees are paid to closed accounts.

The sandbox runs in a process of its own on a free loopback port, with its state in a scratch
folder; nothing else is needed.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import TypeVar

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
from lxml import etree  # noqa: E402

from canonical import BankAccount, BulkPaymentFile, CreditTransfer, Money, PaymentFileTotals  # noqa: E402
from connectors.bank import BankClient, validate_pain001, write_bulk_pain001  # noqa: E402
from connectors.bank.schema import SCHEMA_FILE  # noqa: E402
from finsync.config import BankVendorSettings  # noqa: E402

T = TypeVar("T")

DEBTOR = BankAccount(holder_name="Finsync Demo GmbH", iban="DE02120300000000202051", bic="BYLADEM1001")
CLOSED = {7: "DE44500105175407324931",    # Sophie Schulz: closed in the bank's seed
          4711: "DE91100000000123456789"}  # closed by this benchmark
NET_PAY = BulkPaymentFile(message_id="FSN-BENCH-NOV-DE01", payment_info_id="FSN-BENCH-NOV-DE01-EUR",
                          debtor_entity="DE01", debtor_name=DEBTOR.holder_name, debtor_account=DEBTOR, currency="EUR",
                          requested_execution_date=date(2026, 11, 27), service_level="SEPA")


def german_iban(account: int, bank_code: str = "50010517") -> str:
    """A valid German IBAN (ISO 13616 check digits) for ``account`` at ``bank_code``."""
    bban = f"{bank_code}{account:010d}"
    check = 98 - int(f"{bban}131400") % 97   # D=13, E=14, then 00
    return f"DE{check:02d}{bban}"


def transfers(count: int) -> Iterator[CreditTransfer]:
    """``count`` employees' net pay, made one at a time as the activity's store cursor would."""
    for n in range(1, count + 1):
        yield CreditTransfer(
            end_to_end_id=f"FSN-NOV-{n:06d}", amount=Money.of(Decimal(1800 + n * 37 % 4200) + Decimal(n % 100) / 100, "EUR"),
            creditor=BankAccount(holder_name=f"Employee {n:06d}", iban=CLOSED.get(n) or german_iban(n), bic="INGDDEFFXXX"),
            remittance_info="Net pay November 2026")


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measured(what: str, work: Callable[[], T]) -> T:
    wall, cpu = time.perf_counter(), time.process_time()
    result = work()
    print(f"  {what:<44} {time.perf_counter() - wall:6.2f} s wall {time.process_time() - cpu:6.2f} s CPU   "
          f"peak RSS {peak_rss_mb():6.0f} MB")
    return result


def validate_whole_tree(path: Path) -> None:
    schema = etree.XMLSchema(etree.parse(str(SCHEMA_FILE)))
    if not schema.validate(etree.parse(str(path))):
        raise ValueError(str(schema.error_log.last_error))


def validate_with_xmlschema(path: Path) -> None:
    import xmlschema

    xmlschema.XMLSchema(str(SCHEMA_FILE)).validate(str(path))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def peak_rss_of(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")) / 1024


def start_bank(scratch: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The bank sandbox in a process of its own, deciding payments at once; and its URL."""
    port = free_port()
    sandbox = subprocess.Popen([sys.executable, "-c", (
        "import sys, uvicorn; sys.path.insert(0, sys.argv[1]); from sandboxes.bank import create_app; "
        "uvicorn.run(create_app(sys.argv[2], settle_after_seconds=0), host='127.0.0.1', port=int(sys.argv[3]), "
        "log_level='warning')"), str(ROOT), str(scratch / "bank.db"), str(port)])
    return sandbox, f"http://127.0.0.1:{port}"


async def through_the_bank(path: Path, totals: PaymentFileTotals, sandbox: subprocess.Popen[bytes], url: str) -> None:
    client = BankClient.from_settings(BankVendorSettings(base_url=url))
    try:
        async with httpx.AsyncClient(base_url=url) as admin:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if (await admin.get("/_sandbox/health")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline or sandbox.poll() is not None:
                    raise RuntimeError("the bank sandbox did not start")
                await asyncio.sleep(0.1)
            await admin.put(f"/_sandbox/accounts/{CLOSED[4711]}", json={"closed": True})
        started = time.perf_counter()
        acknowledgement = await client.send_batch_file(totals, path)
        accepted = time.perf_counter()
        print(f"  {'upload and ingestion (to the 202)':<44} {accepted - started:6.2f} s wall   "
              f"{acknowledgement.pending.count} transactions {acknowledgement.group_status}")
        while not (status := await client.file_status(totals.message_id)) or not status.decided:  # noqa: ASYNC110 - asks the bank
            await asyncio.sleep(0.2)
        decided = time.perf_counter()
        print(f"  {'decided (settled or rejected) after the 202':<44} {decided - accepted:6.2f} s wall   "
              f"{status.group_status}: {status.settled.count} settled ({status.settled.control_sum} EUR), "
              f"{status.rejected.count} rejected ({status.rejected.control_sum} EUR)")
        rejections, cursor = [], None
        while True:
            page = await client.rejections(totals.message_id, cursor)
            rejections += page.rejections
            if (cursor := page.next_cursor) is None:
                break
        print(f"  {'rejections read back':<44} {time.perf_counter() - decided:6.2f} s wall   "
              + ", ".join(f"{r.end_to_end_id} {r.reason_code} {r.amount}" for r in rejections))
        print(f"  sandbox peak RSS {peak_rss_of(sandbox.pid):.0f} MB")
    finally:
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--transfers", type=int, default=50_000)
    parser.add_argument("--compare", action="store_true", help="also validate the whole tree, and with xmlschema")
    args = parser.parse_args()
    print(f"pain.001.001.09 of {args.transfers} transfers; peak RSS after start-up {peak_rss_mb():.0f} MB")
    with tempfile.TemporaryDirectory(prefix="finsync-bench-pain001-") as folder:
        scratch = Path(folder)
        path = scratch / "net-pay.xml"
        print("build")
        measured("making the CreditTransfers alone", lambda: sum(1 for _ in transfers(args.transfers)))
        totals = measured("making them and writing the file", lambda: write_bulk_pain001(path, NET_PAY,
                                                                                          transfers(args.transfers)))
        print(f"  {totals.count} transactions, CtrlSum {totals.control_sum} EUR, "
              f"{path.stat().st_size / 1024 / 1024:.1f} MB")
        print("validate")
        measured("streaming lxml (validate_pain001)", lambda: validate_pain001(path))
        if args.compare:
            measured("lxml, whole tree in memory", lambda: validate_whole_tree(path))
            measured("xmlschema (pure Python)", lambda: validate_with_xmlschema(path))
        print("bank")
        sandbox, url = start_bank(scratch)
        try:
            asyncio.run(through_the_bank(path, totals, sandbox, url))
        finally:
            sandbox.terminate()
            sandbox.wait(timeout=10)


if __name__ == "__main__":
    main()
