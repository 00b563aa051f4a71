"""The bank sandbox over real HTTP: pain.001 in, signed pain.002 / camt.054 webhooks out."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from lxml import etree

from finsync.config import WebhookSettings
from sandboxes.bank import create_app
from sandboxes.kit.company import load_company
from sandboxes.kit.workforce import Workforce
from tests.support.servers import serve
from tests.support.statements import schema_errors
from tests.support.webhooks import Receiver

PAIN001_NS = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09"
DEBTOR_IBAN = "DE02120300000000202051"        # the company's EUR account (DE01), company_accounts in the seed
US_DEBTOR_ACCOUNT = "000123456789"            # the company's USD account (US01)
OTHER_BANKS_IBAN = "DE89370400440532013000"   # an account this bank does not hold
OPEN_IBAN = "DE75512108001245126199"      # Katrin Vogel
CLOSED_IBAN = "DE44500105175407324931"    # Sophie Schulz: bank_account_closed in the seed
BANK_SECRET = WebhookSettings().bank_secrets[0].get_secret_value()


def pain001(msg_id: str, end_to_end_id: str, *, creditor_iban: str = OPEN_IBAN, amount: str = "100.00",
            currency: str = "EUR", ctrl_sum: str | None = None, nb_of_txs: str = "1",
            end_to_end_element: str = "EndToEndId", debtor_account: str = DEBTOR_IBAN) -> bytes:
    """A hand-written pain.001.001.09, independent of the connector's builder."""
    ctrl_sum = ctrl_sum or amount
    debtor_id = (f"<IBAN>{debtor_account}</IBAN>" if debtor_account[:2].isalpha()
                 else f"<Othr><Id>{debtor_account}</Id></Othr>")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{PAIN001_NS}"><CstmrCdtTrfInitn>
 <GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2026-11-20T09:30:00Z</CreDtTm><NbOfTxs>{nb_of_txs}</NbOfTxs>
  <CtrlSum>{ctrl_sum}</CtrlSum><InitgPty><Nm>Finsync Demo GmbH</Nm></InitgPty></GrpHdr>
 <PmtInf><PmtInfId>{msg_id}-1</PmtInfId><PmtMtd>TRF</PmtMtd><NbOfTxs>1</NbOfTxs><CtrlSum>{amount}</CtrlSum>
  <ReqdExctnDt><Dt>2026-11-21</Dt></ReqdExctnDt><Dbtr><Nm>Finsync Demo GmbH</Nm></Dbtr>
  <DbtrAcct><Id>{debtor_id}</Id></DbtrAcct><DbtrAgt><FinInstnId><BICFI>BYLADEM1001</BICFI></FinInstnId></DbtrAgt>
  <ChrgBr>SLEV</ChrgBr>
  <CdtTrfTxInf><PmtId><InstrId>{end_to_end_id}</InstrId><{end_to_end_element}>{end_to_end_id}</{end_to_end_element}></PmtId>
   <Amt><InstdAmt Ccy="{currency}">{amount}</InstdAmt></Amt>
   <CdtrAgt><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></CdtrAgt><Cdtr><Nm>Employee</Nm></Cdtr>
   <CdtrAcct><Id><IBAN>{creditor_iban}</IBAN></Id></CdtrAcct><RmtInf><Ustrd>Expense report</Ustrd></RmtInf>
  </CdtTrfTxInf></PmtInf>
</CstmrCdtTrfInitn></Document>""".encode()


def signature_is_valid(headers: dict[str, str], body: bytes, secret: str) -> bool:
    """Standard Webhooks v1, checked from the spec rather than with the sandbox's own code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    fresh = abs(time.time() - int(headers["webhook-timestamp"])) < 300
    return fresh and any(hmac.compare_digest(part.removeprefix("v1,"), expected)
                         for part in headers["webhook-signature"].split() if part.startswith("v1,"))


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[Receiver, str]]:
    hooks = Receiver()
    async with serve(hooks.app) as url:
        yield hooks, f"{url}/hooks"


@asynccontextmanager
async def bank(db: Path, **options) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox on a real port, and a client that already holds a token."""
    async with serve(create_app(db, **options)) as url, httpx.AsyncClient(base_url=url, timeout=10) as http:
        token = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                 auth=("finsync", "sandbox-secret"))
        assert token.status_code == 200, token.text
        http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        yield http


async def submit(http: httpx.AsyncClient, document: bytes) -> httpx.Response:
    return await http.post("/v1/payments", content=document, headers={"Content-Type": "application/xml"})


def xml(document: str | bytes) -> etree._Element:
    return etree.fromstring(document.encode() if isinstance(document, str) else document)


def first(root: etree._Element, local_path: str) -> str:
    return root.findtext("/".join(f"{{*}}{part}" for part in local_path.split("/")))


def amount_at(root: etree._Element, local_path: str) -> tuple[str, str]:
    """(amount, currency) of the Amt-style element at ``local_path``."""
    found = root.find("/".join(f"{{*}}{part}" for part in local_path.split("/")))
    return found.text, found.get("Ccy")



async def test_token_and_client_credentials_are_required(tmp_path: Path) -> None:
    async with serve(create_app(tmp_path / "bank.db")) as url, httpx.AsyncClient(base_url=url) as http:
        no_token = await http.post("/v1/payments", content=pain001("M-1", "E-1"),
                                   headers={"Content-Type": "application/xml"})
        wrong_secret = await http.post("/oauth/token", data={"grant_type": "client_credentials"},
                                       auth=("finsync", "guess"))
    assert no_token.status_code == 401
    assert wrong_secret.status_code == 401 and wrong_secret.json() == {"error": "invalid_client"}


@pytest.mark.parametrize(("document", "code", "words"), [
    (pain001("M-X", "E-X", end_to_end_element="EndToEndRef"), "FF01", "EndToEndRef"),
    (pain001("M-X", "E-X", ctrl_sum="99.99"), "AM10", "CtrlSum"),
    (pain001("M-X", "E-X", nb_of_txs="2"), "AM18", "NbOfTxs"),
    (pain001("M-X", "E-X", amount="1000.50", currency="JPY"), "AM12", "decimals"),
], ids=["xsd-invalid", "ctrl-sum-mismatch", "nb-of-txs-mismatch", "jpy-with-decimals"])
async def test_an_invalid_file_is_refused_with_reasons_and_nothing_is_booked(
        tmp_path: Path, document: bytes, code: str, words: str) -> None:
    async with bank(tmp_path / "bank.db") as http:
        refused = await submit(http, document)
        lookup = await http.get("/v1/payments/M-X/status")
    assert refused.status_code == 400
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["code"] == code
    assert words in problem["detail"] + " ".join(problem["errors"])
    assert lookup.status_code == 404


async def test_a_repeated_msg_id_or_end_to_end_id_is_refused_and_pays_once(
        tmp_path: Path, receiver: tuple[Receiver, str]) -> None:
    hooks, endpoint = receiver
    async with bank(tmp_path / "bank.db", webhook_endpoint=endpoint, settle_after_seconds=0.2) as http:
        accepted = await submit(http, pain001("M-DUP", "E-DUP"))
        same_file = await submit(http, pain001("M-DUP", "E-DUP"))
        same_e2e_new_msg = await submit(http, pain001("M-DUP-2", "E-DUP"))
        await hooks.wait_for(2)  # pain.002 + camt.054 of the one payment
        await asyncio.sleep(0.5)  # room for any second payment's webhooks to show up
        status = await http.get("/v1/payments/M-DUP/status")
        second_msg = await http.get("/v1/payments/M-DUP-2/status")
        booked = (await http.get("/_sandbox/payments")).json()

    assert accepted.status_code == 202
    assert accepted.json() == {"messageId": "M-DUP", "status": "ACTC", "statusUrl": "/v1/payments/M-DUP/status"}
    for duplicate in (same_file, same_e2e_new_msg):
        assert duplicate.status_code == 409
        assert duplicate.json()["code"] == "DUPL"
        assert duplicate.json()["messageId"] == "M-DUP"
        assert duplicate.json()["statusUrl"] == "/v1/payments/M-DUP/status"
    assert second_msg.status_code == 404
    assert [(p["messageId"], p["endToEndId"], p["status"]) for p in booked] == [("M-DUP", "E-DUP", "ACSC")]
    assert len(xml(status.content).findall(".//{*}TxInfAndSts")) == 1
    assert sorted(event["type"] for event in hooks.events()) == ["account.debit_notification",
                                                                 "payment.status_report"]


async def test_a_settled_payment_sends_signed_pain002_and_camt054(
        tmp_path: Path, receiver: tuple[Receiver, str]) -> None:
    hooks, endpoint = receiver
    async with bank(tmp_path / "bank.db", webhook_endpoint=endpoint, settle_after_seconds=0.2) as http:
        await submit(http, pain001("M-OK", "E-OK", amount="250.75"))
        deliveries = await hooks.wait_for(2)
        transaction = (await http.get("/v1/payments/M-OK/transactions/E-OK")).json()
        status = await http.get("/v1/payments/M-OK/status")

    for headers, body in deliveries:
        assert signature_is_valid(headers, body, BANK_SECRET)
    events = {event["type"]: event for event in hooks.events()}

    report = events["payment.status_report"]
    assert report["data"]["format"] == "pain.002.001.10" and report["data"]["messageId"] == "M-OK"
    pain002 = xml(report["data"]["document"])
    assert first(pain002, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgId") == "M-OK"
    assert first(pain002, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/OrgnlMsgNmId") == "pain.001.001.09"
    tx = "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts"
    assert first(pain002, f"{tx}/OrgnlEndToEndId") == "E-OK"
    assert first(pain002, f"{tx}/TxSts") == "ACSC"
    assert first(pain002, f"{tx}/OrgnlTxRef/Amt/InstdAmt") == "250.75"

    debit = events["account.debit_notification"]
    assert debit["data"]["format"] == "camt.054.001.08"
    camt054 = xml(debit["data"]["document"])
    entry = "BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry"
    assert first(camt054, f"{entry}/CdtDbtInd") == "DBIT"
    assert first(camt054, f"{entry}/Sts/Cd") == "BOOK"
    assert first(camt054, f"{entry}/Amt") == "250.75"
    assert first(camt054, f"{entry}/NtryDtls/TxDtls/Refs/EndToEndId") == "E-OK"
    details = f"{entry}/NtryDtls/TxDtls/AmtDtls"   # an EUR payment from the EUR account: nothing converted
    assert first(camt054, f"{details}/InstdAmt/Amt") == first(camt054, f"{details}/TxAmt/Amt") == "250.75"
    assert camt054.find(".//{*}CcyXchg") is None

    assert transaction["status"] == "ACSC" and transaction["amount"] == "250.75"
    assert {key: transaction["debit"][key] for key in ("amount", "currency", "exchangeRate")} == {
        "amount": "250.75", "currency": "EUR", "exchangeRate": None}
    assert transaction["bookingDate"] == first(camt054, f"{entry}/BookgDt/Dt")
    assert status.headers["content-type"].startswith("application/xml")
    assert first(xml(status.content), "CstmrPmtStsRpt/OrgnlGrpInfAndSts/GrpSts") == "ACSC"


async def test_a_closed_account_is_rejected_ac04_and_pays_once_reopened(
        tmp_path: Path, receiver: tuple[Receiver, str]) -> None:
    hooks, endpoint = receiver
    async with bank(tmp_path / "bank.db", webhook_endpoint=endpoint, settle_after_seconds=0.2) as http:
        await submit(http, pain001("M-CLOSED", "E-CLOSED", creditor_iban=CLOSED_IBAN))
        await hooks.wait_for(1)
        await asyncio.sleep(0.4)  # a rejected payment must not also be booked
        rejected = list(hooks.events())
        reopened = await http.put(f"/_sandbox/accounts/{CLOSED_IBAN}", json={"closed": False})
        await submit(http, pain001("M-REOPENED", "E-REOPENED", creditor_iban=CLOSED_IBAN))
        await hooks.wait_for(3)
        transaction = (await http.get("/v1/payments/M-CLOSED/transactions/E-CLOSED")).json()

    assert [event["type"] for event in rejected] == ["payment.status_report"]
    pain002 = xml(rejected[0]["data"]["document"])
    tx = "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts"
    assert first(pain002, f"{tx}/TxSts") == "RJCT"
    assert first(pain002, f"{tx}/StsRsnInf/Rsn/Cd") == "AC04"
    assert transaction["status"] == "RJCT" and transaction["reasonCode"] == "AC04"
    assert reopened.json()["closed"] is False
    later = [xml(event["data"]["document"]) for event in hooks.events()[1:]
             if event["type"] == "payment.status_report"]
    assert [first(doc, f"{tx}/TxSts") for doc in later] == ["ACSC"]


async def test_a_restarted_bank_settles_what_it_accepted_before(
        tmp_path: Path, receiver: tuple[Receiver, str]) -> None:
    hooks, endpoint = receiver
    db = tmp_path / "bank.db"
    async with bank(db, webhook_endpoint=endpoint, settle_after_seconds=30) as http:
        assert (await submit(http, pain001("M-RESTART", "E-RESTART"))).status_code == 202
    assert hooks.received == []
    # The new process is configured to settle faster; the subscription was kept in the database.
    async with bank(db, settle_after_seconds=0.1) as http:
        await hooks.wait_for(2)
        transaction = (await http.get("/v1/payments/M-RESTART/transactions/E-RESTART")).json()
    assert transaction["status"] == "ACSC"
    assert {event["data"]["messageId"] for event in hooks.events()} == {"M-RESTART"}


def event_of(hooks: Receiver, event_type: str) -> etree._Element:
    (event,) = [event for event in hooks.events() if event["type"] == event_type]
    return xml(event["data"]["document"])


ENTRY = "BkToCstmrDbtCdtNtfctn/Ntfctn/Ntry"
TX_DETAILS = f"{ENTRY}/NtryDtls/TxDtls"


@pytest.mark.parametrize(("debtor", "amount", "currency", "debited", "debited_currency", "rate"), [
    # EUR from the USD account at the bank's latest EUR->USD rate, 1.0975: 94.385 rounds half up.
    (US_DEBTOR_ACCOUNT, "86.00", "EUR", "94.39", "USD", "1.0975"),
    # USD from the EUR account at 0.9204 USD->EUR: 1234.5678 EUR, to the cent.
    (DEBTOR_IBAN, "1341.33", "USD", "1234.56", "EUR", "0.9204"),
    # JPY from the USD account at 0.006736: 84.2 USD.
    (US_DEBTOR_ACCOUNT, "12500", "JPY", "84.20", "USD", "0.006736"),
    # An account the bank does not hold is debited what was instructed, as before.
    (OTHER_BANKS_IBAN, "50.00", "USD", "50.00", "USD", None),
], ids=["eur-from-usd-account", "usd-from-eur-account", "jpy-from-usd-account", "unknown-debtor-account"])
async def test_a_payment_is_debited_in_the_account_currency_at_the_banks_rate(
        tmp_path: Path, receiver: tuple[Receiver, str], debtor: str, amount: str, currency: str, debited: str,
        debited_currency: str, rate: str | None) -> None:
    hooks, endpoint = receiver
    async with bank(tmp_path / "bank.db", webhook_endpoint=endpoint, settle_after_seconds=0.2) as http:
        await submit(http, pain001("M-FX", "E-FX", amount=amount, currency=currency, debtor_account=debtor))
        await hooks.wait_for(2)
        transaction = (await http.get("/v1/payments/M-FX/transactions/E-FX")).json()

    camt054 = event_of(hooks, "account.debit_notification")
    assert first(camt054, "BkToCstmrDbtCdtNtfctn/Ntfctn/Acct/Ccy") == debited_currency
    for path in (f"{ENTRY}/Amt", f"{TX_DETAILS}/Amt", f"{TX_DETAILS}/AmtDtls/TxAmt/Amt"):
        assert amount_at(camt054, path) == (debited, debited_currency), path
    assert amount_at(camt054, f"{TX_DETAILS}/AmtDtls/InstdAmt/Amt") == (amount, currency)
    exchange = f"{TX_DETAILS}/AmtDtls/InstdAmt/CcyXchg"
    if rate is None:
        assert first(camt054, exchange) is None
    else:
        assert [first(camt054, f"{exchange}/{part}") for part in ("SrcCcy", "TrgtCcy", "UnitCcy", "XchgRate")] == [
            currency, debited_currency, currency, rate]
    pain002 = event_of(hooks, "payment.status_report")
    assert first(pain002, "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts/OrgnlTxRef/Amt/InstdAmt") == amount

    assert (transaction["status"], transaction["amount"], transaction["currency"]) == ("ACSC", amount, currency)
    assert transaction["debit"] == {"amount": debited, "currency": debited_currency, "exchangeRate": rate,
                                    "bookingDate": transaction["bookingDate"],
                                    "bankReference": transaction["bankReference"]}
    assert transaction["return"] is None


async def test_a_currency_the_bank_cannot_convert_into_the_account_is_rejected_am11(
        tmp_path: Path, receiver: tuple[Receiver, str]) -> None:
    hooks, endpoint = receiver
    async with bank(tmp_path / "bank.db", webhook_endpoint=endpoint, settle_after_seconds=0.2) as http:
        await submit(http, pain001("M-SEK", "E-SEK", amount="500.00", currency="SEK",
                                   debtor_account=US_DEBTOR_ACCOUNT))
        await hooks.wait_for(1)
        await asyncio.sleep(0.4)  # a rejected payment must not also be booked
        transaction = (await http.get("/v1/payments/M-SEK/transactions/E-SEK")).json()

    assert [event["type"] for event in hooks.events()] == ["payment.status_report"]
    pain002 = event_of(hooks, "payment.status_report")
    tx = "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts"
    assert (first(pain002, f"{tx}/TxSts"), first(pain002, f"{tx}/StsRsnInf/Rsn/Cd")) == ("RJCT", "AM11")
    assert (transaction["status"], transaction["reasonCode"], transaction["debit"]) == ("RJCT", "AM11", None)


async def test_a_returned_payment_is_credited_back_with_its_reason_and_shows_as_returned(
        tmp_path: Path, receiver: tuple[Receiver, str]) -> None:
    hooks, endpoint = receiver
    async with bank(tmp_path / "bank.db", webhook_endpoint=endpoint, settle_after_seconds=0.2) as http:
        await submit(http, pain001("M-RTN", "E-RTN", amount="86.00", currency="EUR",
                                   debtor_account=US_DEBTOR_ACCOUNT))
        await hooks.wait_for(2)
        settled = (await http.get("/v1/payments/M-RTN/transactions/E-RTN")).json()
        returned = await http.post("/_sandbox/payments/M-RTN/transactions/E-RTN/return", json={"reasonCode": "MS03"})
        await hooks.wait_for(3)
        again = await http.post("/_sandbox/payments/M-RTN/transactions/E-RTN/return", json={"reasonCode": "AC04"})
        transaction = (await http.get("/v1/payments/M-RTN/transactions/E-RTN")).json()
        status = await http.get("/v1/payments/M-RTN/status")
        await asyncio.sleep(0.4)  # room for any second return's webhook to show up

    assert returned.status_code == 200 and returned.json() == transaction
    assert again.status_code == 409 and "only a settled payment" in again.json()["detail"]
    assert [event["type"] for event in hooks.events()].count("account.credit_notification") == 1
    camt054 = event_of(hooks, "account.credit_notification")
    assert (first(camt054, f"{ENTRY}/CdtDbtInd"), first(camt054, f"{ENTRY}/Sts/Cd")) == ("CRDT", "BOOK")
    assert first(camt054, f"{ENTRY}/BkTxCd/Domn/Fmly/SubFmlyCd") == "RRTN"
    assert first(camt054, f"{TX_DETAILS}/Refs/EndToEndId") == "E-RTN"
    assert first(camt054, f"{TX_DETAILS}/RtrInf/Rsn/Cd") == "MS03"
    assert amount_at(camt054, f"{ENTRY}/Amt") == ("94.39", "USD")   # back into the USD account
    assert amount_at(camt054, f"{TX_DETAILS}/AmtDtls/InstdAmt/Amt") == ("86.00", "EUR")

    assert (transaction["status"], transaction["reasonCode"]) == ("RJCT", "MS03")
    assert transaction["debit"] == settled["debit"] and transaction["bookingDate"] == settled["bookingDate"]
    assert {key: transaction["return"][key] for key in ("amount", "currency", "exchangeRate", "reasonCode")} == {
        "amount": "94.39", "currency": "USD", "exchangeRate": "1.0975", "reasonCode": "MS03"}
    assert transaction["return"]["bankReference"] == first(camt054, f"{ENTRY}/AcctSvcrRef")
    tx = "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts"
    assert (first(xml(status.content), f"{tx}/TxSts"), first(xml(status.content), f"{tx}/StsRsnInf/Rsn/Cd")) == (
        "RJCT", "MS03")


async def test_only_a_settled_payment_can_be_returned(tmp_path: Path) -> None:
    async with bank(tmp_path / "bank.db", settle_after_seconds=30) as http:
        await submit(http, pain001("M-WAIT", "E-WAIT"))
        pending = await http.post("/_sandbox/payments/M-WAIT/transactions/E-WAIT/return", json={"reasonCode": "AC04"})
        unknown = await http.post("/_sandbox/payments/M-NONE/transactions/E-NONE/return", json={"reasonCode": "AC04"})
        no_code = await http.post("/_sandbox/payments/M-WAIT/transactions/E-WAIT/return", json={"reasonCode": "x"})
        transaction = (await http.get("/v1/payments/M-WAIT/transactions/E-WAIT")).json()
    assert pending.status_code == 409 and "ACTC" in pending.json()["detail"]
    assert unknown.status_code == 404
    assert no_code.status_code == 422
    assert (transaction["status"], transaction["return"]) == ("ACTC", None)


def transfer_xml(end_to_end_id: str, amount: str, creditor_iban: str = OPEN_IBAN) -> str:
    return f"""<CdtTrfTxInf><PmtId><InstrId>{end_to_end_id}</InstrId><EndToEndId>{end_to_end_id}</EndToEndId></PmtId>
   <Amt><InstdAmt Ccy="EUR">{amount}</InstdAmt></Amt>
   <CdtrAgt><FinInstnId><BICFI>COBADEFFXXX</BICFI></FinInstnId></CdtrAgt><Cdtr><Nm>Supplier {end_to_end_id}</Nm></Cdtr>
   <CdtrAcct><Id><IBAN>{creditor_iban}</IBAN></Id></CdtrAcct></CdtTrfTxInf>"""


def batch_pain001(msg_id: str, blocks: dict[str, tuple[str, list[tuple[str, str, str]]]],
                  batch_booked: Collection[str] = (), *, batch_booking: str = "false") -> bytes:
    """A hand-written payment run: ``blocks`` is PmtInfId -> (execution date, [(EndToEndId,
    amount, creditor IBAN)]), all in EUR from the company's EUR account; the blocks named in
    ``batch_booked`` ask for BtchBookg true."""
    def total(transfers: list[tuple[str, str, str]]) -> str:
        return str(sum(Decimal(amount) for _, amount, _ in transfers))

    every = [tx for _, transfers in blocks.values() for tx in transfers]
    payment_infos = "".join(f"""
 <PmtInf><PmtInfId>{pmt_inf_id}</PmtInfId><PmtMtd>TRF</PmtMtd>
  <BtchBookg>{"true" if pmt_inf_id in batch_booked else batch_booking}</BtchBookg>
  <NbOfTxs>{len(transfers)}</NbOfTxs><CtrlSum>{total(transfers)}</CtrlSum>
  <ReqdExctnDt><Dt>{day}</Dt></ReqdExctnDt><Dbtr><Nm>Finsync Demo GmbH</Nm></Dbtr>
  <DbtrAcct><Id><IBAN>{DEBTOR_IBAN}</IBAN></Id></DbtrAcct><DbtrAgt><FinInstnId><BICFI>BYLADEM1001</BICFI></FinInstnId></DbtrAgt>
  <ChrgBr>SLEV</ChrgBr>{"".join(transfer_xml(*tx) for tx in transfers)}</PmtInf>"""
                            for pmt_inf_id, (day, transfers) in blocks.items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{PAIN001_NS}"><CstmrCdtTrfInitn>
 <GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>2026-11-20T09:30:00Z</CreDtTm><NbOfTxs>{len(every)}</NbOfTxs>
  <CtrlSum>{total(every)}</CtrlSum><InitgPty><Nm>Finsync Demo GmbH</Nm></InitgPty></GrpHdr>{payment_infos}
</CstmrCdtTrfInitn></Document>""".encode()


RUN_BLOCKS = {
    "M-RUN-P1": ("2026-11-21", [("E-RUN-1", "100.00", OPEN_IBAN), ("E-RUN-2", "20.50", CLOSED_IBAN),
                                ("E-RUN-3", "7.25", OTHER_BANKS_IBAN)]),
    "M-RUN-P2": ("2026-11-22", [("E-RUN-4", "1000.00", OPEN_IBAN), ("E-RUN-5", "0.99", OTHER_BANKS_IBAN)]),
}
BLOCK_OF = {e2e: pmt_inf_id for pmt_inf_id, (_, transfers) in RUN_BLOCKS.items() for e2e, _, _ in transfers}
TX_STATUS = "CstmrPmtStsRpt/OrgnlPmtInfAndSts/TxInfAndSts"


async def test_a_batch_settles_each_transaction_on_its_own_and_rejects_only_the_closed_account(
        tmp_path: Path, receiver: tuple[Receiver, str]) -> None:
    hooks, endpoint = receiver
    async with bank(tmp_path / "bank.db", webhook_endpoint=endpoint, settle_after_seconds=0.2) as http:
        accepted = await submit(http, batch_pain001("M-RUN", RUN_BLOCKS))
        await hooks.wait_for(9)   # a pain.002 per transaction, a camt.054 per debit
        await asyncio.sleep(0.4)  # room for any stray webhook to show up
        transactions = {e2e: (await http.get(f"/v1/payments/M-RUN/transactions/{e2e}")).json() for e2e in BLOCK_OF}
        status = xml((await http.get("/v1/payments/M-RUN/status")).content)

    assert accepted.status_code == 202 and accepted.json()["status"] == "ACTC"
    assert {e2e: (tx["status"], tx["reasonCode"]) for e2e, tx in transactions.items()} == {
        "E-RUN-1": ("ACSC", None), "E-RUN-2": ("RJCT", "AC04"), "E-RUN-3": ("ACSC", None),
        "E-RUN-4": ("ACSC", None), "E-RUN-5": ("ACSC", None)}

    reports = [xml(event["data"]["document"]) for event in hooks.events() if event["type"] == "payment.status_report"]
    told = {first(doc, f"{TX_STATUS}/OrgnlEndToEndId"): (first(doc, "CstmrPmtStsRpt/OrgnlPmtInfAndSts/OrgnlPmtInfId"),
                                                          first(doc, f"{TX_STATUS}/TxSts"),
                                                          first(doc, f"{TX_STATUS}/StsRsnInf/Rsn/Cd"))
            for doc in reports}
    assert len(reports) == 5 and all(len(doc.findall(".//{*}TxInfAndSts")) == 1 for doc in reports)
    assert told == {e2e: (BLOCK_OF[e2e], "RJCT" if e2e == "E-RUN-2" else "ACSC", "AC04" if e2e == "E-RUN-2" else None)
                    for e2e in BLOCK_OF}
    debits = [xml(event["data"]["document"]) for event in hooks.events()
              if event["type"] == "account.debit_notification"]
    assert sorted((first(doc, f"{TX_DETAILS}/Refs/PmtInfId"), first(doc, f"{TX_DETAILS}/Refs/EndToEndId"),
                   first(doc, f"{ENTRY}/Amt")) for doc in debits) == [
        ("M-RUN-P1", "E-RUN-1", "100.00"), ("M-RUN-P1", "E-RUN-3", "7.25"),
        ("M-RUN-P2", "E-RUN-4", "1000.00"), ("M-RUN-P2", "E-RUN-5", "0.99")]

    assert first(status, "CstmrPmtStsRpt/OrgnlGrpInfAndSts/GrpSts") == "PART"
    assert [(first(block, "OrgnlPmtInfId"), first(block, "PmtInfSts"), len(block.findall("{*}TxInfAndSts")))
            for block in status.findall(".//{*}OrgnlPmtInfAndSts")] == [("M-RUN-P1", "PART", 3), ("M-RUN-P2", "ACSC", 2)]


async def test_a_file_from_a_closed_debtor_account_is_rejected_whole_in_one_group_level_report(
        tmp_path: Path, receiver: tuple[Receiver, str]) -> None:
    hooks, endpoint = receiver
    async with bank(tmp_path / "bank.db", webhook_endpoint=endpoint, settle_after_seconds=0.2) as http:
        closed = await http.put(f"/_sandbox/accounts/{DEBTOR_IBAN}", json={"closed": True})
        accepted = await submit(http, batch_pain001("M-SHUT", RUN_BLOCKS))
        await hooks.wait_for(1)
        await asyncio.sleep(0.4)  # nothing else may follow: no transaction report, no booking
        transactions = [(await http.get(f"/v1/payments/M-SHUT/transactions/{e2e}")).json() for e2e in BLOCK_OF]
        status = xml((await http.get("/v1/payments/M-SHUT/status")).content)

    assert closed.status_code == 200 and accepted.status_code == 202
    assert [event["type"] for event in hooks.events()] == ["payment.status_report"]
    (report,) = [xml(event["data"]["document"]) for event in hooks.events()]
    for document in (report, status):
        group = "CstmrPmtStsRpt/OrgnlGrpInfAndSts"
        assert [first(document, f"{group}/{tag}") for tag in ("OrgnlMsgId", "OrgnlNbOfTxs", "OrgnlCtrlSum", "GrpSts",
                                                               "StsRsnInf/Rsn/Cd")] == [
            "M-SHUT", "5", "1128.74", "RJCT", "AC05"]
        assert document.find(".//{*}OrgnlPmtInfAndSts") is None and document.find(".//{*}TxInfAndSts") is None
    assert {(tx["status"], tx["reasonCode"], tx["debit"]) for tx in transactions} == {("RJCT", "AC05", None)}


async def test_a_generated_employees_closed_account_is_rejected_ac04_by_the_workforces_rule(tmp_path: Path) -> None:
    workforce = Workforce(load_company())
    closed, open_ = workforce.employee(8007), workforce.employee(4)      # both in DE01; 8007 is one in 2,000
    assert closed.iban and open_.iban and closed.country == open_.country == "DE"
    async with bank(tmp_path / "bank.db", settle_after_seconds=0.1) as http:
        for msg_id, employee in (("M-W-CLOSED", closed), ("M-W-OPEN", open_)):
            assert (await submit(http, pain001(msg_id, msg_id.replace("M-", "E-"), creditor_iban=employee.account_id))
                    ).status_code == 202
        decided = {msg_id: await decision(http, msg_id, msg_id.replace("M-", "E-")) for msg_id in ("M-W-CLOSED", "M-W-OPEN")}
    assert decided == {"M-W-CLOSED": ("RJCT", "AC04"), "M-W-OPEN": ("ACSC", None)}


async def decision(http: httpx.AsyncClient, msg_id: str, end_to_end_id: str, timeout: float = 6.0) -> tuple[str, str | None]:
    """The bank's decision on one transaction, once it has made one."""
    deadline = time.monotonic() + timeout
    while True:
        transaction = (await http.get(f"/v1/payments/{msg_id}/transactions/{end_to_end_id}")).json()
        if transaction["status"] != "ACTC":
            return transaction["status"], transaction["reasonCode"]
        assert time.monotonic() < deadline, f"{end_to_end_id} still undecided"
        await asyncio.sleep(0.05)


# --- End-of-day statements (camt.053) ------------------------------------------------------------

STMT = "BkToCstmrStmt/Stmt"
OPENING_EUR = Decimal("150000000.00")   # the EUR account's opening_balance in the seed


async def settled(http: httpx.AsyncClient, msg_id: str, end_to_end_ids: Collection[str],
                  timeout: float = 10.0) -> dict[str, dict]:
    """Each transaction once the bank has decided it (settled or rejected)."""
    deadline = time.monotonic() + timeout
    while True:
        found = {e2e: (await http.get(f"/v1/payments/{msg_id}/transactions/{e2e}")).json() for e2e in end_to_end_ids}
        if all(tx["status"] != "ACTC" for tx in found.values()):
            return found
        assert time.monotonic() < deadline, f"still undecided: {found}"
        await asyncio.sleep(0.1)


async def statement(http: httpx.AsyncClient, day: str | date, account: str = DEBTOR_IBAN) -> etree._Element:
    """The day's camt.053, after checking it against the official schema."""
    response = await http.get(f"/v1/accounts/{account}/statements/{day}")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    assert schema_errors(response.content) == []
    return xml(response.content)


def balance(document: etree._Element, code: str) -> Decimal:
    """The signed balance of type ``code`` (OPBD, CLBD)."""
    (found,) = [bal for bal in document.iterfind(".//{*}Stmt/{*}Bal") if first(bal, "Tp/CdOrPrtry/Cd") == code]
    amount = Decimal(first(found, "Amt"))
    return amount if first(found, "CdtDbtInd") == "CRDT" else -amount


def entries(document: etree._Element) -> list[etree._Element]:
    return document.findall(".//{*}Ntry")


def net_of_entries(document: etree._Element) -> Decimal:
    return sum((Decimal(first(entry, "Amt")) * (1 if first(entry, "CdtDbtInd") == "CRDT" else -1)
                for entry in entries(document)), Decimal(0))


async def test_a_batch_booked_block_is_one_debit_of_what_settled_and_the_statement_is_valid_camt053(
        tmp_path: Path) -> None:
    async with bank(tmp_path / "bank.db", settle_after_seconds=0.1) as http:
        await submit(http, batch_pain001("M-RUN", RUN_BLOCKS, batch_booked={"M-RUN-P1"}))
        decided = await settled(http, "M-RUN", BLOCK_OF)
        day = decided["E-RUN-1"]["bookingDate"]
        document = await statement(http, day)

    assert first(document, f"{STMT}/Acct/Id/IBAN") == DEBTOR_IBAN
    assert first(document, f"{STMT}/Acct/Ccy") == "EUR"
    assert first(document, f"{STMT}/FrToDt/FrDtTm").startswith(day)
    # P1 batch booked: one debit for what settled (E-RUN-2 to a closed account was rejected, AC04).
    # P2 not batch booked: one debit per transaction.
    batch, *singles = entries(document)
    assert [first(batch, f"NtryDtls/Btch/{tag}") for tag in ("MsgId", "PmtInfId", "NbOfTxs", "TtlAmt", "CdtDbtInd")] == [
        "M-RUN", "M-RUN-P1", "2", "107.25", "DBIT"]
    assert (first(batch, "Amt"), first(batch, "CdtDbtInd"), first(batch, "Sts/Cd")) == ("107.25", "DBIT", "BOOK")
    assert [(first(tx, "Refs/EndToEndId"), first(tx, "Refs/PmtInfId"), first(tx, "Refs/MsgId"),
             first(tx, "AmtDtls/TxAmt/Amt")) for tx in batch.iterfind("{*}NtryDtls/{*}TxDtls")] == [
        ("E-RUN-1", "M-RUN-P1", "M-RUN", "100.00"), ("E-RUN-3", "M-RUN-P1", "M-RUN", "7.25")]
    assert [(first(entry, "Amt"), first(entry, "NtryDtls/TxDtls/Refs/EndToEndId"), first(entry, "NtryDtls/Btch"))
            for entry in singles] == [("1000.00", "E-RUN-4", None), ("0.99", "E-RUN-5", None)]
    # The balances and the summary add up: opening + credits - debits = closing.
    assert balance(document, "OPBD") == OPENING_EUR
    assert balance(document, "CLBD") == OPENING_EUR - Decimal("1108.24") == OPENING_EUR + net_of_entries(document)
    summary = f"{STMT}/TxsSummry"
    assert [first(document, f"{summary}/{path}") for path in (
        "TtlNtries/NbOfNtries", "TtlNtries/Sum", "TtlNtries/TtlNetNtry/Amt", "TtlNtries/TtlNetNtry/CdtDbtInd",
        "TtlDbtNtries/NbOfNtries", "TtlCdtNtries/NbOfNtries")] == ["3", "1108.24", "1108.24", "DBIT", "3", "0"]


async def test_statements_chain_day_to_day_with_consecutive_sequence_numbers(tmp_path: Path) -> None:
    async with bank(tmp_path / "bank.db", settle_after_seconds=0.1) as http:
        await submit(http, pain001("M-DAY", "E-DAY", amount="250.00"))
        today = date.fromisoformat((await settled(http, "M-DAY", ["E-DAY"]))["E-DAY"]["bookingDate"])
        two_days_ago, yesterday = today - timedelta(days=2), today - timedelta(days=1)
        for day, side, amount in ((two_days_ago, "CRDT", "5000.00"), (yesterday, "DBIT", "12.50")):
            booked = await http.post("/_sandbox/statements/extra-bookings", json={
                "account": DEBTOR_IBAN, "creditDebit": side, "amount": amount, "bookingDate": day.isoformat()})
            assert booked.status_code == 201, booked.text
        days = [today - timedelta(days=back) for back in (3, 2, 1, 0)]
        documents = [await statement(http, day) for day in days]
        listing = (await http.get(f"/v1/accounts/{DEBTOR_IBAN}/statements",
                                  params={"from": days[0].isoformat(), "to": today.isoformat()})).json()
        us_statement = await statement(http, today, account=US_DEBTOR_ACCOUNT)

    opening = [balance(document, "OPBD") for document in documents]
    closing = [balance(document, "CLBD") for document in documents]
    assert opening[0] == closing[0] == OPENING_EUR                     # a day with no bookings
    assert closing[1] == OPENING_EUR + Decimal("5000.00")
    assert closing[2] == closing[1] - Decimal("12.50")
    assert closing[3] == closing[2] - Decimal("250.00")
    assert opening[1:] == closing[:-1]                                 # each day opens with the day before's close
    assert all(balance(d, "OPBD") + net_of_entries(d) == balance(d, "CLBD") for d in documents)
    numbers = [int(first(document, f"{STMT}/ElctrncSeqNb")) for document in documents]
    assert numbers == list(range(numbers[0], numbers[0] + 4))
    assert len({first(document, f"{STMT}/Id") for document in documents}) == 4
    assert [(item["date"], item["sequenceNumber"], item["statementId"]) for item in listing["statements"]] == [
        (day.isoformat(), number, first(document, f"{STMT}/Id"))
        for day, number, document in zip(days, numbers, documents, strict=True)]
    assert listing["statements"][-1]["url"] == f"/v1/accounts/{DEBTOR_IBAN}/statements/{today.isoformat()}"
    # The US account has no IBAN: it is named by its account number.
    assert first(us_statement, f"{STMT}/Acct/Id/Othr/Id") == US_DEBTOR_ACCOUNT
    assert first(us_statement, f"{STMT}/Acct/Ccy") == "USD"


async def test_a_left_out_booking_and_an_unknown_charge_appear_on_the_statement_until_taken_back(
        tmp_path: Path) -> None:
    async with bank(tmp_path / "bank.db", settle_after_seconds=0.1) as http:
        await submit(http, batch_pain001("M-INJ", {"M-INJ-P1": ("2026-11-21", [
            ("E-INJ-1", "100.00", OPEN_IBAN), ("E-INJ-2", "200.00", OTHER_BANKS_IBAN)])}, batch_booked={"M-INJ-P1"}))
        day = (await settled(http, "M-INJ", ["E-INJ-1", "E-INJ-2"]))["E-INJ-1"]["bookingDate"]
        before = await statement(http, day)
        left_out = await http.post("/_sandbox/statements/left-out", json={"messageId": "M-INJ", "endToEndId": "E-INJ-2"})
        charge = await http.post("/_sandbox/statements/extra-bookings", json={
            "account": DEBTOR_IBAN, "creditDebit": "DBIT", "amount": "15.00", "description": "Payroll file fee"})
        injected = await statement(http, day)
        listed = (await http.get("/_sandbox/statements/injections")).json()
        put_back = await http.delete(f"/_sandbox/statements/left-out/{left_out.json()['entryId']}")
        removed = await http.delete(f"/_sandbox/statements/extra-bookings/{charge.json()['id']}")
        after = await statement(http, day)
        unknown_payment = await http.post("/_sandbox/statements/left-out", json={"messageId": "M-INJ", "endToEndId": "E-NONE"})

    assert left_out.status_code == 201 and charge.status_code == 201
    assert [(item["messageId"], item["endToEndId"], item["amount"]) for item in listed["leftOut"]] == [
        ("M-INJ", "E-INJ-2", "200.00")]
    assert [(item["creditDebit"], item["amount"], item["bankTransactionCode"]) for item in listed["extraBookings"]] == [
        ("DBIT", "15.00", "ACMT/MDOP/CHRG")]
    batch, fee = entries(injected)
    # The settled E-INJ-2 is on no statement: the batch is booked (and balanced) without it.
    assert [first(tx, "Refs/EndToEndId") for tx in batch.iterfind("{*}NtryDtls/{*}TxDtls")] == ["E-INJ-1"]
    assert (first(batch, "Amt"), first(batch, "NtryDtls/Btch/NbOfTxs")) == ("100.00", "1")
    assert (first(fee, "Amt"), first(fee, "CdtDbtInd"), first(fee, "AddtlNtryInf")) == ("15.00", "DBIT", "Payroll file fee")
    assert [first(fee, f"BkTxCd/Domn/{path}") for path in ("Cd", "Fmly/Cd", "Fmly/SubFmlyCd")] == ["ACMT", "MDOP", "CHRG"]
    assert balance(injected, "CLBD") == balance(before, "CLBD") + Decimal("200.00") - Decimal("15.00")
    assert balance(injected, "OPBD") + net_of_entries(injected) == balance(injected, "CLBD")
    # Taken back, the statement is what it was.
    assert put_back.status_code == removed.status_code == 204
    assert [first(entry, "Amt") for entry in entries(after)] == [first(entry, "Amt") for entry in entries(before)] == [
        "300.00"]
    assert balance(after, "CLBD") == balance(before, "CLBD")
    assert unknown_payment.status_code == 404 and "E-NONE" in unknown_payment.json()["detail"]


async def test_a_return_is_a_credit_entry_of_its_own_with_its_reason(tmp_path: Path) -> None:
    async with bank(tmp_path / "bank.db", settle_after_seconds=0.1) as http:
        await submit(http, pain001("M-BACK", "E-BACK", amount="80.00"))
        await settled(http, "M-BACK", ["E-BACK"])
        returned = (await http.post("/_sandbox/payments/M-BACK/transactions/E-BACK/return",
                                    json={"reasonCode": "AC04"})).json()
        document = await statement(http, returned["return"]["bookingDate"])

    debit, credit = entries(document)
    assert (first(debit, "CdtDbtInd"), first(debit, "Amt")) == ("DBIT", "80.00")
    assert (first(credit, "CdtDbtInd"), first(credit, "Amt"), first(credit, "BkTxCd/Domn/Fmly/SubFmlyCd")) == (
        "CRDT", "80.00", "RRTN")
    assert first(credit, "NtryDtls/TxDtls/Refs/EndToEndId") == "E-BACK"
    assert first(credit, "NtryDtls/TxDtls/RtrInf/Rsn/Cd") == "AC04"
    assert balance(document, "CLBD") == balance(document, "OPBD")


async def test_a_statement_that_cannot_be_given_is_refused_in_one_clear_line(tmp_path: Path) -> None:
    async with bank(tmp_path / "bank.db") as http:
        today = date.fromisoformat((await http.get(f"/v1/accounts/{DEBTOR_IBAN}/statements")).json()
                                   ["statements"][-1]["date"])
        unknown_account = await http.get(f"/v1/accounts/{OTHER_BANKS_IBAN}/statements/{today}")
        tomorrow = await http.get(f"/v1/accounts/{DEBTOR_IBAN}/statements/{today + timedelta(days=1)}")
        long_ago = await http.get(f"/v1/accounts/{DEBTOR_IBAN}/statements/{today - timedelta(days=800)}")
        not_a_day = await http.get(f"/v1/accounts/{DEBTOR_IBAN}/statements/yesterday")
        backwards = await http.get(f"/v1/accounts/{DEBTOR_IBAN}/statements",
                                   params={"from": today.isoformat(), "to": (today - timedelta(days=1)).isoformat()})
        del http.headers["Authorization"]
        no_token = await http.get(f"/v1/accounts/{DEBTOR_IBAN}/statements/{today}")

    for refused, words in ((unknown_account, "no account"), (tomorrow, "not made yet"), (long_ago, "statements from")):
        assert refused.status_code == 404
        assert refused.headers["content-type"] == "application/problem+json"
        assert words in refused.json()["detail"]
    assert not_a_day.status_code == 422
    assert backwards.status_code == 400 and "before" in backwards.json()["detail"]
    assert no_token.status_code == 401


SECOND_CLOSED_IBAN = "DE91100000000123456789"   # closed by the test
PAYROLL_BLOCKS = {
    "M-PAY-P1": ("2026-11-27", [(f"E-PAY-{n}", f"{1000 + n}.{n % 100:02d}",
                                 {17: CLOSED_IBAN, 160: SECOND_CLOSED_IBAN}.get(n, OPEN_IBAN if n % 2 else OTHER_BANKS_IBAN))
                                for n in range(1, 201)]),
    "M-PAY-P2": ("2026-11-27", [(f"E-PAY-{n}", "2500.00", OPEN_IBAN) for n in range(201, 301)]),
}
PAYROLL_AMOUNTS = {e2e: Decimal(amount) for _, transfers in PAYROLL_BLOCKS.values() for e2e, amount, _ in transfers}
GROUP = "CstmrPmtStsRpt/OrgnlGrpInfAndSts"


def counts_per_status(document: etree._Element) -> dict[str, tuple[str, str]]:
    return {first(detail, "DtldSts"): (first(detail, "DtldNbOfTxs"), first(detail, "DtldCtrlSum"))
            for detail in document.findall(".//{*}NbOfTxsPerSts")}


def listed(document: etree._Element) -> list[tuple[str, str, str, str]]:
    """(OrgnlPmtInfId, OrgnlEndToEndId, TxSts, reason) of each transaction the report lists."""
    return [(first(block, "OrgnlPmtInfId"), first(tx, "OrgnlEndToEndId"), first(tx, "TxSts"), first(tx, "StsRsnInf/Rsn/Cd"))
            for block in document.findall(".//{*}OrgnlPmtInfAndSts") for tx in block.findall("{*}TxInfAndSts")]


async def test_a_batch_booked_file_settles_all_but_its_closed_accounts_and_is_reported_as_a_whole(
        tmp_path: Path, receiver: tuple[Receiver, str]) -> None:
    hooks, endpoint = receiver
    async with bank(tmp_path / "bank.db", webhook_endpoint=endpoint, settle_after_seconds=0.2) as http:
        await http.put(f"/_sandbox/accounts/{SECOND_CLOSED_IBAN}", json={"closed": True})
        accepted = await submit(http, batch_pain001("M-PAY", PAYROLL_BLOCKS, batch_booking="true"))
        await hooks.wait_for(1)
        await asyncio.sleep(0.5)  # room for any stray webhook: none may follow, per transaction or per debit
        status = xml((await http.get("/v1/payments/M-PAY/status")).content)
        first_page = await http.get("/v1/payments/M-PAY/status", params={"limit": 1})
        next_page = await http.get(first_page.links["next"]["url"])
        booked = {tx["endToEndId"]: (tx["status"], tx["reasonCode"], tx["debit"] is not None)
                  for tx in (await http.get("/_sandbox/payments")).json()}

    assert accepted.status_code == 202
    assert [event["type"] for event in hooks.events()] == ["payment.status_report"]
    (report,) = [xml(event["data"]["document"]) for event in hooks.events()]
    rejected = {"E-PAY-17", "E-PAY-160"}
    settled_sum = sum(amount for e2e, amount in PAYROLL_AMOUNTS.items() if e2e not in rejected)
    for document in (report, status):
        assert [first(document, f"{GROUP}/{tag}") for tag in ("OrgnlMsgId", "OrgnlNbOfTxs", "GrpSts")] == [
            "M-PAY", "300", "PART"]
        assert counts_per_status(document) == {"ACSC": ("298", str(settled_sum)), "RJCT": ("2", "2177.77")}
        assert [(first(block, "OrgnlPmtInfId"), first(block, "PmtInfSts"))
                for block in document.findall(".//{*}OrgnlPmtInfAndSts")] == [("M-PAY-P1", "PART"), ("M-PAY-P2", "ACSC")]
    assert listed(report) == []
    assert listed(status) == [("M-PAY-P1", "E-PAY-17", "RJCT", "AC04"), ("M-PAY-P1", "E-PAY-160", "RJCT", "AC04")]
    assert listed(xml(first_page.content)) == [("M-PAY-P1", "E-PAY-17", "RJCT", "AC04")]
    assert listed(xml(next_page.content)) == [("M-PAY-P1", "E-PAY-160", "RJCT", "AC04")]
    assert "next" not in next_page.links
    assert booked == {e2e: ("RJCT", "AC04", False) if e2e in rejected else ("ACSC", None, True) for e2e in PAYROLL_AMOUNTS}
