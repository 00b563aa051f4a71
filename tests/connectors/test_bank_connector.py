"""The bank connector against the real bank sandbox over HTTP."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import date
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import sepaxml
from fastapi import FastAPI, Request
from lxml import etree

from canonical import (
    BankAccount,
    BulkPaymentFile,
    BusinessProblem,
    CreditTransfer,
    FileAcknowledgement,
    GroupStatusReport,
    Money,
    PaymentBatch,
    PaymentFileTotals,
    PaymentGroup,
    PaymentInstruction,
    PaymentState,
    PaymentStatusReport,
    RejectionPage,
)
from connectors.bank import BankClient, build_pain001, parse_file_status, parse_notification, write_bulk_pain001
from connectors.errors import AmbiguousWriteError, VendorRejectedError
from finsync.config import BankVendorSettings
from sandboxes.bank import create_app
from sandboxes.kit.faults import FaultConfig
from tests.support.servers import serve

PAIN001_XSD = Path(sepaxml.__file__).parent / "schemas" / "pain.001.001.09.xsd"

DE_DEBTOR = BankAccount(holder_name="Finsync Demo GmbH", iban="DE02120300000000202051", bic="BYLADEM1001")
US_DEBTOR = BankAccount(holder_name="Finsync Demo Inc.", account_number="000123456789", bic="CHASUS33XXX")
KATRIN = BankAccount(holder_name="Katrin Vogel", iban="DE75512108001245126199", bic="COBADEFFXXX")
MAYA = BankAccount(holder_name="Maya Patel", account_number="100000000001", bic="CHASUS33XXX")
SOPHIE_CLOSED = BankAccount(holder_name="Sophie Schulz", iban="DE44500105175407324931", bic="DEUTDEFFXXX")
TOKYO = BankAccount(holder_name="Kenji Sato", account_number="1234567", bic="MHCBJPJTXXX")


def instruction(key: str, *, debtor: BankAccount = DE_DEBTOR, creditor: BankAccount = KATRIN,
                amount: str = "123.40", currency: str = "EUR") -> PaymentInstruction:
    return PaymentInstruction(
        message_id=f"PAY-{key}", end_to_end_id=f"E2E-{key}", debtor_entity="DE01",
        debtor_name=debtor.holder_name, debtor_account=debtor, creditor=creditor,
        amount=Money.of(amount, currency), requested_execution_date=date(2026, 11, 23),
        remittance_info=f"Expense report {key}")


@asynccontextmanager
async def bank(tmp_path: Path, **options) -> AsyncIterator[tuple[BankClient, httpx.AsyncClient]]:
    """A connector configured only through settings, plus a plain client for the sandbox's admin routes."""
    options.setdefault("settle_after_seconds", 0.2)
    async with serve(create_app(tmp_path / "bank.db", **options)) as url:
        client = BankClient.from_settings(BankVendorSettings(base_url=url))
        async with httpx.AsyncClient(base_url=url) as admin:
            try:
                yield client, admin
            finally:
                await client.aclose()


async def payments_at_bank(admin: httpx.AsyncClient) -> list[tuple[str, str]]:
    return [(p["messageId"], p["endToEndId"]) for p in (await admin.get("/_sandbox/payments")).json()]


async def final_status(client: BankClient, payment: PaymentInstruction | tuple[str, str]) -> PaymentStatusReport:
    """The payment's (or the (MsgId, EndToEndId)'s) status once decided, or after 5 s."""
    message_id, end_to_end_id = payment if isinstance(payment, tuple) else (payment.message_id, payment.end_to_end_id)
    deadline = time.monotonic() + 5
    while True:
        report = await client.payment_status(message_id, end_to_end_id)
        if report.state in (PaymentState.SETTLED, PaymentState.REJECTED) or time.monotonic() > deadline:
            return report
        await asyncio.sleep(0.05)


@pytest.mark.parametrize(("payment", "amount_text", "creditor_id"), [
    (instruction("EUR"), "123.40", "IBAN"),
    (instruction("USD", debtor=US_DEBTOR, creditor=MAYA, amount="87.5", currency="USD"), "87.50", "Othr/Id"),
    (instruction("JPY", creditor=TOKYO, amount="12500", currency="JPY"), "12500", "Othr/Id"),
], ids=["eur-iban", "usd-account-number", "jpy-no-decimals"])
def test_built_pain001_validates_against_the_official_schema(
        payment: PaymentInstruction, amount_text: str, creditor_id: str) -> None:
    document = etree.fromstring(build_pain001(payment))
    schema = etree.XMLSchema(etree.parse(str(PAIN001_XSD)))
    assert schema.validate(document), schema.error_log

    def text(path: str) -> str:
        return document.findtext("/".join(f"{{*}}{part}" for part in path.split("/")))

    tx = "CstmrCdtTrfInitn/PmtInf/CdtTrfTxInf"
    assert text(f"{tx}/Amt/InstdAmt") == amount_text
    assert text("CstmrCdtTrfInitn/GrpHdr/CtrlSum") == amount_text
    assert text("CstmrCdtTrfInitn/PmtInf/CtrlSum") == amount_text
    assert text("CstmrCdtTrfInitn/GrpHdr/MsgId") == payment.message_id
    assert text(f"{tx}/PmtId/EndToEndId") == payment.end_to_end_id
    assert text(f"{tx}/CdtrAcct/Id/{creditor_id}") == payment.creditor.account_id
    assert text("CstmrCdtTrfInitn/PmtInf/DbtrAgt/FinInstnId/BICFI") == payment.debtor_account.bic


async def test_sending_twice_or_looking_up_first_pays_once(tmp_path: Path) -> None:
    payment = instruction("TWICE")
    same_end_to_end_new_message = payment.model_copy(update={"message_id": "PAY-TWICE-RETRY"})
    async with bank(tmp_path) as (client, admin):
        first = await client.send_payment(payment)
        again = await client.send_payment(payment)
        looked_up = await client.send_payment(payment, lookup_first=True)
        renamed = await client.send_payment(same_end_to_end_new_message)
        settled = await final_status(client, payment)
        booked = await payments_at_bank(admin)

    assert (first.state, first.bank_status_code) == (PaymentState.PENDING, "ACTC")
    assert again.message_id == looked_up.message_id == renamed.message_id == "PAY-TWICE"
    assert booked == [("PAY-TWICE", "E2E-TWICE")]
    assert settled.state is PaymentState.SETTLED and settled.bank_status_code == "ACSC"
    assert settled.amount == Money.of("123.40", "EUR") and settled.booking_date is not None


async def test_a_lost_response_is_ambiguous_and_the_lookup_finds_the_payment(tmp_path: Path) -> None:
    payment = instruction("LOST")
    faults = FaultConfig(ambiguous_rate=1.0, path_pattern="/v1/payments$")
    async with bank(tmp_path, faults=faults) as (client, admin):
        with pytest.raises(AmbiguousWriteError):
            await client.send_payment(payment)
        resolved = await client.send_payment(payment, lookup_first=True)
        booked = await payments_at_bank(admin)
        injected = (await admin.get("/_sandbox/faults")).json()["injected"]

    assert injected == {"dropped_response": 1}
    assert resolved.state is not PaymentState.UNKNOWN and resolved.message_id == "PAY-LOST"
    assert booked == [("PAY-LOST", "E2E-LOST")]


async def test_status_is_unknown_for_a_payment_the_bank_never_got(tmp_path: Path) -> None:
    async with bank(tmp_path) as (client, _admin):
        report = await client.payment_status("PAY-NEVER", "E2E-NEVER")
    assert report.state is PaymentState.UNKNOWN


async def test_a_closed_beneficiary_account_is_rejected_with_a_readable_reason(tmp_path: Path) -> None:
    payment = instruction("CLOSED", creditor=SOPHIE_CLOSED)
    async with bank(tmp_path) as (client, _admin):
        await client.send_payment(payment)
        report = await final_status(client, payment)
    assert report.state is PaymentState.REJECTED
    assert report.reason_code == "AC04"
    assert report.reason_text == "the beneficiary account is closed"


async def test_refused_files_raise_vendor_rejected_with_a_business_code(tmp_path: Path) -> None:
    no_end_to_end_id = instruction("EMPTY").model_copy(update={"end_to_end_id": ""})
    wrong_total = build_pain001(instruction("TOTAL")).replace(b"<CtrlSum>123.40</CtrlSum>",
                                                               b"<CtrlSum>999.99</CtrlSum>", 1)
    async with bank(tmp_path) as (client, admin):
        with pytest.raises(VendorRejectedError) as invalid:
            await client.send_payment(no_end_to_end_id)
        with pytest.raises(VendorRejectedError) as totals:
            await client.request("POST", "/v1/payments", ok=(202,), content=wrong_total,
                                 headers={"Content-Type": "application/xml"})
        booked = await payments_at_bank(admin)
    assert (invalid.value.problem.code, invalid.value.problem.vendor_code) == ("PAYMENT_FILE_INVALID", "FF01")
    assert "minLength" in invalid.value.problem.reason  # the schema error is passed on to IT
    assert (totals.value.problem.code, totals.value.problem.vendor_code) == ("PAYMENT_TOTALS_MISMATCH", "AM10")
    assert booked == []


def hook_receiver(bodies: list[bytes]) -> FastAPI:
    """A webhook endpoint at /bank that keeps each body it gets in ``bodies``."""
    hooks = FastAPI()

    @hooks.post("/bank")
    async def receive(request: Request) -> dict:
        bodies.append(await request.body())
        return {}

    return hooks


def transaction_reports(body: bytes) -> list[PaymentStatusReport]:
    """The webhook's reports, each on one transaction."""
    reports = parse_notification(body)
    assert all(isinstance(report, PaymentStatusReport) for report in reports), reports
    return [report for report in reports if isinstance(report, PaymentStatusReport)]


async def arrived(bodies: list[bytes], count: int) -> None:
    deadline = time.monotonic() + 6
    while len(bodies) < count and time.monotonic() < deadline:  # noqa: ASYNC110 - bodies fill from the server task
        await asyncio.sleep(0.05)


async def webhooks(bodies: list[bytes], count: int) -> list[tuple[str, PaymentStatusReport]]:
    """(event type, report) in the first ``count`` webhooks, once they have arrived."""
    await arrived(bodies, count)
    return [(json.loads(body)["type"], report) for body in bodies for report in transaction_reports(body)]


async def test_webhooks_parse_into_status_reports(tmp_path: Path) -> None:
    bodies: list[bytes] = []
    settled, rejected = instruction("HOOK-OK"), instruction("HOOK-NO", creditor=SOPHIE_CLOSED)
    async with serve(hook_receiver(bodies)) as hooks_url, bank(tmp_path) as (client, _admin):
        await client.subscribe_webhook(f"{hooks_url}/bank")
        await client.send_payment(settled)
        await client.send_payment(rejected)
        received = await webhooks(bodies, count=3)

    reports = {(event, report.end_to_end_id): report for event, report in received}
    assert set(reports) == {("payment.status_report", "E2E-HOOK-OK"), ("account.debit_notification", "E2E-HOOK-OK"),
                            ("payment.status_report", "E2E-HOOK-NO")}
    status = reports["payment.status_report", "E2E-HOOK-OK"]
    assert (status.state, status.bank_status_code, status.source) == (PaymentState.SETTLED, "ACSC", "pain.002")
    assert status.message_id == "PAY-HOOK-OK" and status.amount == Money.of(Decimal("123.40"), "EUR")
    debit = reports["account.debit_notification", "E2E-HOOK-OK"]
    assert (debit.state, debit.bank_status_code, debit.source) == (PaymentState.SETTLED, "BOOK", "camt.054")
    assert debit.booking_date is not None and debit.bank_reference == status.bank_reference
    assert (debit.debited, debit.exchange_rate) == (debit.amount, None)   # EUR from the EUR account
    refused = reports["payment.status_report", "E2E-HOOK-NO"]
    assert (refused.state, refused.reason_code) == (PaymentState.REJECTED, "AC04")
    assert refused.reason_text == "the beneficiary account is closed"


CAMT054_V02 = """<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><BkToCstmrDbtCdtNtfctn>
 <GrpHdr><MsgId>N1</MsgId><CreDtTm>2026-11-23T08:00:00</CreDtTm></GrpHdr>
 <Ntfctn><Id>N1</Id><Acct><Id><IBAN>DE02120300000000202051</IBAN></Id></Acct>
  <Ntry><Amt Ccy="EUR">10.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>
   <NtryDtls><TxDtls><Refs><EndToEndId>INCOMING</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>
  <Ntry><Amt Ccy="EUR">55.10</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts><BookgDt><Dt>2026-11-23</Dt></BookgDt>
   <NtryDtls><TxDtls><Refs><MsgId>PAY-7</MsgId><EndToEndId>E2E-7</EndToEndId></Refs></TxDtls></NtryDtls></Ntry>
 </Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"""


def envelope(event_type: str, message_format: str, document: str) -> bytes:
    return json.dumps({"type": event_type, "timestamp": "2026-11-23T08:00:00Z",
                       "data": {"format": message_format, "messageId": "PAY-7", "document": document}}).encode()


def test_an_older_camt054_reads_its_booked_debits_only() -> None:
    reports = transaction_reports(envelope("account.debit_notification", "camt.054.001.02", CAMT054_V02))
    assert [(r.end_to_end_id, r.state, r.amount, r.debited, r.exchange_rate, r.booking_date) for r in reports] == [
        ("E2E-7", PaymentState.SETTLED, Money.of("55.10", "EUR"), Money.of("55.10", "EUR"), None, date(2026, 11, 23))]


@pytest.mark.parametrize("body", [
    b"not json at all",
    b"[1, 2]",
    b'{"data": {}}',
    envelope("payment.status_report", "pain.002.001.10", "<Document><unclosed>"),
    envelope("payment.status_report", "pain.002.001.10", CAMT054_V02),
    envelope("payment.status_report", "camt.054.001.08", CAMT054_V02),
    json.dumps({"type": "account.debit_notification", "data": {"format": "camt.054.001.08"}}).encode(),
], ids=["not-json", "not-an-object", "no-type", "broken-xml", "wrong-document", "wrong-format", "no-document"])
def test_malformed_notifications_raise_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        parse_notification(body)


def test_an_event_finsync_does_not_know_yields_nothing() -> None:
    assert parse_notification(envelope("account.balance_report", "camt.052.001.08", "<x/>")) == []


def pain002(message_id: str, end_to_end_id: str) -> str:
    return f"""<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"><CstmrPmtStsRpt>
 <GrpHdr><MsgId>STS-1</MsgId><CreDtTm>2026-11-23T08:00:00</CreDtTm></GrpHdr>
 <OrgnlGrpInfAndSts><OrgnlMsgId>{message_id}</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId></OrgnlGrpInfAndSts>
 <OrgnlPmtInfAndSts><OrgnlPmtInfId>{message_id}</OrgnlPmtInfId>
  <TxInfAndSts><OrgnlEndToEndId>{end_to_end_id}</OrgnlEndToEndId><TxSts>ACSC</TxSts></TxInfAndSts>
 </OrgnlPmtInfAndSts></CstmrPmtStsRpt></Document>"""


def test_ids_of_up_to_35_characters_are_read() -> None:
    (report,) = transaction_reports(envelope("payment.status_report", "pain.002.001.10", pain002("M" * 35, "E" * 35)))
    assert (report.message_id, report.end_to_end_id) == ("M" * 35, "E" * 35)


@pytest.mark.parametrize("message_id, end_to_end_id, where", [
    ("M" * 36, "FSE-R1-G1P1", "OrgnlMsgId"),
    ("FSM-R1-G1P1", "E" * 1200, "OrgnlEndToEndId"),
    ("FSM-R1-G1P1", "FSE-R1\nG1P1", "OrgnlEndToEndId"),
    ("FSM-R1\tG1P1", "FSE-R1-G1P1", "OrgnlMsgId"),
])
def test_a_pain002_id_that_is_not_max35text_refuses_the_notification(message_id: str, end_to_end_id: str,
                                                                     where: str) -> None:
    body = envelope("payment.status_report", "pain.002.001.10", pain002(message_id, end_to_end_id))
    with pytest.raises(ValueError, match=where):
        parse_notification(body)


@pytest.mark.parametrize("reference", ["<MsgId>PAY-7</MsgId><EndToEndId>" + "E" * 36 + "</EndToEndId>",
                                       "<MsgId>" + "P" * 36 + "</MsgId><EndToEndId>E2E-7</EndToEndId>"])
def test_a_camt054_id_that_is_not_max35text_refuses_the_notification(reference: str) -> None:
    document = CAMT054_V02.replace("<MsgId>PAY-7</MsgId><EndToEndId>E2E-7</EndToEndId>", reference)
    with pytest.raises(ValueError, match="Max35Text"):
        parse_notification(envelope("account.debit_notification", "camt.054.001.02", document))


async def test_a_converted_payment_reports_what_was_debited_and_at_what_rate(tmp_path: Path) -> None:
    """EUR from the USD account: the bank converts at its rate (1.0975 USD per EUR) and debits USD."""
    payment = instruction("FX", debtor=US_DEBTOR, amount="123.40", currency="EUR")
    bodies: list[bytes] = []
    async with serve(hook_receiver(bodies)) as hooks_url, bank(tmp_path) as (client, _admin):
        await client.subscribe_webhook(f"{hooks_url}/bank")
        await client.send_payment(payment)
        reports = dict(await webhooks(bodies, count=2))
        looked_up = await final_status(client, payment)

    debit = reports["account.debit_notification"]
    for report in (debit, looked_up):
        assert report.state is PaymentState.SETTLED
        assert report.amount == Money.of("123.40", "EUR")
        assert report.debited == Money.of("135.43", "USD")     # 135.4315 to the cent
        assert report.exchange_rate == Decimal("1.0975")
    status = reports["payment.status_report"]
    assert (status.amount, status.debited, status.exchange_rate) == (Money.of("123.40", "EUR"), None, None)


async def test_a_returned_payment_reads_as_returned_with_its_reason_and_what_came_back(tmp_path: Path) -> None:
    payment = instruction("BACK", debtor=US_DEBTOR, amount="86.00", currency="EUR")
    bodies: list[bytes] = []
    async with serve(hook_receiver(bodies)) as hooks_url, bank(tmp_path) as (client, admin):
        await client.subscribe_webhook(f"{hooks_url}/bank")
        await client.send_payment(payment)
        settled = await final_status(client, payment)
        returned = await admin.post(f"/_sandbox/payments/{payment.message_id}/transactions/{payment.end_to_end_id}"
                                    "/return", json={"reasonCode": "AC04"})
        assert returned.status_code == 200, returned.text
        reports = await webhooks(bodies, count=3)
        looked_up = await client.payment_status(payment.message_id, payment.end_to_end_id)

    (notified,) = [report for event, report in reports if event == "account.credit_notification"]
    assert settled.state is PaymentState.SETTLED
    for report in (notified, looked_up):
        assert report.state is PaymentState.RETURNED and report.state.decided
        assert (report.reason_code, report.reason_text) == ("AC04", "the beneficiary account is closed")
        assert report.amount == Money.of("86.00", "EUR")
        assert report.debited == Money.of("94.39", "USD")     # credited back into the USD account
        assert report.exchange_rate == Decimal("1.0975")
        assert report.end_to_end_id == payment.end_to_end_id and report.booking_date is not None
    assert notified.bank_reference == looked_up.bank_reference != settled.bank_reference


async def test_a_rejection_after_booking_reads_as_returned_on_the_lookup(tmp_path: Path) -> None:
    """A bank that only turns ACSC into RJCT (no return details): the booking date says it had settled."""
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "token_type": "Bearer", "expires_in": 3600})
        return httpx.Response(200, json={
            "messageId": "PAY-7", "endToEndId": "E2E-7", "status": "RJCT", "reasonCode": "MS03",
            "amount": "55.10", "currency": "EUR", "bookingDate": "2026-11-23", "bankReference": "BNK7"})

    client = BankClient("https://bank.example", client_id="finsync", client_secret="s",
                        transport=httpx.MockTransport(answer))
    try:
        report = await client.payment_status("PAY-7", "E2E-7")
    finally:
        await client.aclose()
    assert (report.state, report.reason_code, report.bank_status_code) == (PaymentState.RETURNED, "MS03", "RJCT")
    assert report.debited is None and report.booking_date == date(2026, 11, 23)


CAMT054_CONVERTED = """<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"><BkToCstmrDbtCdtNtfctn>
 <GrpHdr><MsgId>N2</MsgId><CreDtTm>2026-11-24T08:00:00Z</CreDtTm></GrpHdr>
 <Ntfctn><Id>N2</Id><Acct><Id><Othr><Id>000123456789</Id></Othr></Id><Ccy>USD</Ccy></Acct>
  <Ntry><Amt Ccy="USD">60.00</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-11-24</Dt></BookgDt>
   <NtryDtls><TxDtls><Refs><MsgId>PAY-8</MsgId><EndToEndId>E2E-8</EndToEndId></Refs>
    <Amt Ccy="USD">60.00</Amt><CdtDbtInd>DBIT</CdtDbtInd>
    <AmtDtls><InstdAmt><Amt Ccy="EUR">55.00</Amt></InstdAmt>
     <TxAmt><Amt Ccy="USD">60.00</Amt><CcyXchg><SrcCcy>USD</SrcCcy><TrgtCcy>EUR</TrgtCcy><UnitCcy>USD</UnitCcy>
      <XchgRate>{rate}</XchgRate></CcyXchg></TxAmt></AmtDtls></TxDtls></NtryDtls></Ntry>
  <Ntry><Amt Ccy="USD">60.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts><Cd>BOOK</Cd></Sts><BookgDt><Dt>2026-11-26</Dt></BookgDt>
   <NtryDtls><TxDtls><Refs><MsgId>PAY-8</MsgId><EndToEndId>E2E-8</EndToEndId></Refs>
    <RtrInf><Rsn><Cd>AC01</Cd></Rsn></RtrInf></TxDtls></NtryDtls></Ntry>
 </Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"""


def test_a_rate_quoted_per_unit_of_the_account_currency_is_turned_round_and_a_return_is_read() -> None:
    """Another bank's shape: the rate with TxAmt, per one USD; a return that states its amount once."""
    debit, back = transaction_reports(envelope("account.debit_notification", "camt.054.001.08",
                                              CAMT054_CONVERTED.format(rate="0.9166666667")))
    assert (debit.state, debit.amount, debit.debited) == (PaymentState.SETTLED, Money.of("55.00", "EUR"),
                                                          Money.of("60.00", "USD"))
    assert debit.exchange_rate == Decimal("1.0909090909")       # USD per EUR, to BaseOneRate's 10 places
    assert (back.state, back.reason_code, back.debited, back.booking_date) == (
        PaymentState.RETURNED, "AC01", Money.of("60.00", "USD"), date(2026, 11, 26))


@pytest.mark.parametrize("rate", ["-1.2", "abc", ""])
def test_an_exchange_rate_that_is_not_a_positive_number_refuses_the_notification(rate: str) -> None:
    with pytest.raises(ValueError, match="XchgRate"):
        parse_notification(envelope("account.debit_notification", "camt.054.001.08",
                                    CAMT054_CONVERTED.format(rate=rate)))


def batch_of(key: str, *transfers: tuple[str, BankAccount], debtor: BankAccount = DE_DEBTOR) -> PaymentBatch:
    """EUR transfers of ``(amount, creditor)``: the first two on Monday, any others on Tuesday."""
    days = {date(2026, 11, 23): transfers[:2], date(2026, 11, 24): transfers[2:]}
    return PaymentBatch(message_id=f"RUN-{key}", debtor_entity="DE01", debtor_name=debtor.holder_name,
                        debtor_account=debtor, groups=[
        PaymentGroup(payment_info_id=f"RUN-{key}-{day:%a}", currency="EUR", requested_execution_date=day,
                     transactions=[CreditTransfer(end_to_end_id=f"E2E-{key}-{day:%a}{n}", creditor=creditor,
                                                  amount=Money.of(amount, "EUR"), remittance_info=f"Invoice {n}")
                                   for n, (amount, creditor) in enumerate(on_day, 1)])
        for day, on_day in days.items() if on_day])


RUN = [("100.00", KATRIN), ("20.50", SOPHIE_CLOSED), ("7.25", KATRIN), ("1000.00", KATRIN), ("0.99", KATRIN)]


async def final_statuses(client: BankClient, batch: PaymentBatch) -> dict[str, PaymentStatusReport]:
    return {tx.end_to_end_id: await final_status(client, (batch.message_id, tx.end_to_end_id))
            for _, tx in batch.transfers()}


async def test_a_batch_is_one_file_acknowledged_per_transaction_and_sent_once(tmp_path: Path) -> None:
    batch = batch_of("ONE", *RUN)
    async with bank(tmp_path) as (client, admin):
        sent = await client.send_batch(batch)
        again = await client.send_batch(batch)
        looked_up = await client.send_batch(batch, lookup_first=True)
        settled = await final_statuses(client, batch)
        booked = await payments_at_bank(admin)

    assert sent.message_id == "RUN-ONE"
    assert [(r.end_to_end_id, r.payment_info_id, r.state, r.amount) for r in sent.reports] == [
        (tx.end_to_end_id, group.payment_info_id, PaymentState.PENDING, tx.amount) for group, tx in batch.transfers()]
    assert [r.end_to_end_id for r in again.reports] == [r.end_to_end_id for r in looked_up.reports] == [
        tx.end_to_end_id for _, tx in batch.transfers()]
    assert {r.source for r in again.reports + looked_up.reports} == {"lookup"}
    assert booked == [("RUN-ONE", tx.end_to_end_id) for _, tx in batch.transfers()]
    assert {e2e: (r.state, r.reason_code) for e2e, r in settled.items()} == {
        "E2E-ONE-Mon1": (PaymentState.SETTLED, None), "E2E-ONE-Mon2": (PaymentState.REJECTED, "AC04"),
        "E2E-ONE-Tue1": (PaymentState.SETTLED, None), "E2E-ONE-Tue2": (PaymentState.SETTLED, None),
        "E2E-ONE-Tue3": (PaymentState.SETTLED, None)}


async def test_a_lost_batch_response_is_read_back_by_msgid_before_resending(tmp_path: Path) -> None:
    batch = batch_of("LOST", *RUN[:3])
    faults = FaultConfig(ambiguous_rate=1.0, path_pattern="/v1/payments$")
    async with bank(tmp_path, faults=faults) as (client, admin):
        with pytest.raises(AmbiguousWriteError):
            await client.send_batch(batch)
        resolved = await client.send_batch(batch, lookup_first=True)
        booked = await payments_at_bank(admin)

    assert [(r.message_id, r.end_to_end_id, r.payment_info_id) for r in resolved.reports] == [
        ("RUN-LOST", tx.end_to_end_id, group.payment_info_id) for group, tx in batch.transfers()]
    assert all(r.state is not PaymentState.UNKNOWN for r in resolved.reports)
    assert booked == [("RUN-LOST", tx.end_to_end_id) for _, tx in batch.transfers()]


async def test_another_file_under_the_same_ids_is_a_reused_id_not_a_payment(tmp_path: Path) -> None:
    batch = batch_of("SAME", *RUN[:3])
    other_amounts = batch_of("SAME", ("1.00", KATRIN), *RUN[1:3])
    fewer = batch_of("SAME", *RUN[:2])
    async with bank(tmp_path) as (client, admin):
        await client.send_batch(batch)
        refused = [await _refusal(client.send_batch(other, lookup_first=first))
                   for other in (other_amounts, fewer) for first in (False, True)]
        booked = await payments_at_bank(admin)

    assert {(problem.code, problem.vendor_code) for problem in refused} == {("PAYMENT_ID_REUSED", "DUPL")}
    assert booked == [("RUN-SAME", tx.end_to_end_id) for _, tx in batch.transfers()]


async def _refusal(call) -> BusinessProblem:  # noqa: ANN001 - an awaitable that must raise
    with pytest.raises(VendorRejectedError) as refused:
        await call
    return refused.value.problem


async def test_a_file_rejected_whole_reads_back_as_each_transaction_rejected(tmp_path: Path) -> None:
    batch = batch_of("SHUT", *RUN[:3])
    bodies: list[bytes] = []
    async with serve(hook_receiver(bodies)) as hooks_url, bank(tmp_path) as (client, admin):
        await client.subscribe_webhook(f"{hooks_url}/bank")
        await admin.put(f"/_sandbox/accounts/{DE_DEBTOR.iban}", json={"closed": True})
        await client.send_batch(batch)
        await arrived(bodies, count=1)
        read_back = await client.send_batch(batch, lookup_first=True)

    (group_report,) = [parse_notification(body) for body in bodies]
    assert group_report == [GroupStatusReport(
        message_id="RUN-SHUT", state=PaymentState.REJECTED, bank_status_code="RJCT", reason_code="AC05",
        reason_text="the company's account the payment leaves from is closed", source="pain.002",
        received_at=group_report[0].received_at)]
    assert [(r.end_to_end_id, r.payment_info_id, r.state, r.reason_code, r.amount) for r in read_back.reports] == [
        (tx.end_to_end_id, group.payment_info_id, PaymentState.REJECTED, "AC05", tx.amount)
        for group, tx in batch.transfers()]


def pain002_without_transactions(group_status: str, block: str = "") -> str:
    return f"""<?xml version="1.0"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pain.002.001.10"><CstmrPmtStsRpt>
 <GrpHdr><MsgId>STS-9</MsgId><CreDtTm>2026-11-23T08:00:00Z</CreDtTm></GrpHdr>
 <OrgnlGrpInfAndSts><OrgnlMsgId>RUN-9</OrgnlMsgId><OrgnlMsgNmId>pain.001.001.09</OrgnlMsgNmId>
  <GrpSts>{group_status}</GrpSts><StsRsnInf><Rsn><Cd>AM04</Cd></Rsn></StsRsnInf></OrgnlGrpInfAndSts>{block}
</CstmrPmtStsRpt></Document>"""


@pytest.mark.parametrize("document, expected", [
    (pain002_without_transactions("RJCT"), [("RUN-9", None, "RJCT", "AM04")]),
    (pain002_without_transactions("PART", "<OrgnlPmtInfAndSts><OrgnlPmtInfId>RUN-9-P2</OrgnlPmtInfId>"
                                          "<PmtInfSts>RJCT</PmtInfSts><StsRsnInf><Rsn><Cd>AC06</Cd></Rsn></StsRsnInf>"
                                          "</OrgnlPmtInfAndSts>"), [("RUN-9", "RUN-9-P2", "RJCT", "AC06")]),
    (pain002_without_transactions("ACTC"), []),
    (pain002_without_transactions("ACCP", "<OrgnlPmtInfAndSts><OrgnlPmtInfId>RUN-9-P1</OrgnlPmtInfId>"
                                          "</OrgnlPmtInfAndSts>"), []),
], ids=["file-rejected", "block-rejected", "file-received", "block-accepted"])
def test_a_rejection_that_lists_no_transaction_reads_as_one_for_the_file_or_block(document: str, expected) -> None:
    reports = parse_notification(envelope("payment.status_report", "pain.002.001.10", document))
    assert all(isinstance(r, GroupStatusReport) and r.state is PaymentState.REJECTED for r in reports)
    assert [(r.message_id, r.payment_info_id, r.bank_status_code, r.reason_code) for r in reports] == expected


def test_transaction_reports_name_their_block() -> None:
    (report,) = transaction_reports(envelope("payment.status_report", "pain.002.001.10", pain002("M-1", "E-1")))
    (debit,) = transaction_reports(envelope("account.debit_notification", "camt.054.001.02", CAMT054_V02.replace(
        "<MsgId>PAY-7</MsgId>", "<MsgId>PAY-7</MsgId><PmtInfId>PAY-7-P1</PmtInfId>")))
    assert (report.payment_info_id, debit.payment_info_id) == ("M-1", "PAY-7-P1")


SECOND_CLOSED = BankAccount(holder_name="Lena Braun", iban="DE91100000000123456789", bic="COBADEFFXXX")
PAYROLL = BulkPaymentFile(message_id="FSN-NOV-DE01", payment_info_id="FSN-NOV-DE01-EUR", debtor_entity="DE01",
                          debtor_name=DE_DEBTOR.holder_name, debtor_account=DE_DEBTOR, currency="EUR",
                          requested_execution_date=date(2026, 11, 27), service_level="SEPA")
CLOSED_EMPLOYEES = {7: SOPHIE_CLOSED, 180: SECOND_CLOSED}


def net_pay(count: int) -> Iterator[CreditTransfer]:
    """Employee n is paid 2000 + n euros; two of them to closed accounts."""
    for n in range(1, count + 1):
        yield CreditTransfer(end_to_end_id=f"FSN-NOV-{n:05d}", amount=Money.of(2000 + n, "EUR"),
                             creditor=CLOSED_EMPLOYEES.get(n, KATRIN), remittance_info="Net pay November 2026")


def payroll_file(tmp_path: Path, count: int = 250, payment_file: BulkPaymentFile = PAYROLL
                       ) -> tuple[Path, PaymentFileTotals]:
    path = tmp_path / f"{payment_file.message_id}-{count}.xml"
    return path, write_bulk_pain001(path, payment_file, net_pay(count))


async def decided(client: BankClient, message_id: str) -> FileAcknowledgement:
    """The file's acknowledgement once every transaction is decided, or after 5 s."""
    deadline = time.monotonic() + 5
    while True:
        acknowledgement = await client.file_status(message_id)
        assert acknowledgement is not None
        if acknowledgement.decided or time.monotonic() > deadline:
            return acknowledgement
        await asyncio.sleep(0.05)


async def test_a_payroll_file_is_sent_once_by_msgid_and_answered_in_numbers(tmp_path: Path) -> None:
    path, totals = payroll_file(tmp_path)
    async with bank(tmp_path) as (client, admin):
        await admin.put(f"/_sandbox/accounts/{SECOND_CLOSED.iban}", json={"closed": True})
        sent = await client.send_batch_file(totals, path)
        again = await client.send_batch_file(totals, path)
        looked_up = await client.send_batch_file(totals, path, lookup_first=True)
        final = await decided(client, PAYROLL.message_id)
        booked = await payments_at_bank(admin)

    paid = Decimal(sum(2000 + n for n in range(1, 251)))
    assert (sent.message_id, sent.count, sent.control_sum, sent.source) == ("FSN-NOV-DE01", 250, paid, "submission")
    assert (sent.pending.count, sent.pending.control_sum, sent.decided) == (250, paid, False)
    assert {again.message_id, looked_up.message_id} == {"FSN-NOV-DE01"} and {again.count, looked_up.count} == {250}
    assert sorted(booked) == sorted(("FSN-NOV-DE01", tx.end_to_end_id) for tx in net_pay(250))
    assert final.decided and final.group_status == "PART"
    assert (final.settled.count, final.settled.control_sum) == (248, paid - 2007 - 2180)
    assert (final.rejected.count, final.rejected.control_sum) == (2, Decimal(2007 + 2180))
    assert final.pending.count == final.accepted.count == 0


async def test_rejected_transactions_are_read_a_page_at_a_time(tmp_path: Path) -> None:
    path, totals = payroll_file(tmp_path)
    async with bank(tmp_path) as (client, admin):
        await admin.put(f"/_sandbox/accounts/{SECOND_CLOSED.iban}", json={"closed": True})
        await client.send_batch_file(totals, path)
        await decided(client, PAYROLL.message_id)
        first_page = await client.rejections(PAYROLL.message_id, limit=1)
        second_page = await client.rejections(PAYROLL.message_id, first_page.next_cursor, limit=1)
        whole = await client.rejections(PAYROLL.message_id)

    def seen(page: RejectionPage) -> list[tuple[str, str | None, Money | None]]:
        return [(r.end_to_end_id, r.reason_code, r.amount) for r in page.rejections]

    assert seen(first_page) == [("FSN-NOV-00007", "AC04", Money.of(2007, "EUR"))] and first_page.next_cursor
    assert seen(second_page) == [("FSN-NOV-00180", "AC04", Money.of(2180, "EUR"))] and second_page.next_cursor is None
    assert seen(whole) == seen(first_page) + seen(second_page) and whole.next_cursor is None
    assert {r.reason_text for r in whole.rejections} == {"the beneficiary account is closed"}


async def test_a_lost_upload_response_is_read_back_by_msgid_before_sending_again(tmp_path: Path) -> None:
    path, totals = payroll_file(tmp_path, 40)
    faults = FaultConfig(ambiguous_rate=1.0, path_pattern="/v1/payments$")
    async with bank(tmp_path, faults=faults) as (client, admin):
        with pytest.raises(AmbiguousWriteError):
            await client.send_batch_file(totals, path)
        resolved = await client.send_batch_file(totals, path, lookup_first=True)
        booked = await payments_at_bank(admin)

    assert (resolved.message_id, resolved.count, resolved.control_sum) == (totals.message_id, 40, totals.control_sum)
    assert len(booked) == 40


async def test_another_file_under_the_same_msgid_is_a_reused_id_not_a_payment(tmp_path: Path) -> None:
    path, totals = payroll_file(tmp_path, 30)
    other_path, other_totals = payroll_file(tmp_path, 31)
    async with bank(tmp_path) as (client, admin):
        await client.send_batch_file(totals, path)
        refused = [await _refusal(client.send_batch_file(other_totals, other_path, lookup_first=first))
                   for first in (False, True)]
        booked = await payments_at_bank(admin)

    assert {(problem.code, problem.vendor_code) for problem in refused} == {("PAYMENT_ID_REUSED", "DUPL")}
    assert len(booked) == 30


async def test_a_payroll_file_from_a_closed_account_reads_as_all_of_it_rejected(tmp_path: Path) -> None:
    path, totals = payroll_file(tmp_path, 20)
    async with bank(tmp_path) as (client, admin):
        await admin.put(f"/_sandbox/accounts/{DE_DEBTOR.iban}", json={"closed": True})
        await client.send_batch_file(totals, path)
        final = await decided(client, PAYROLL.message_id)
        never_sent = await client.file_status("FSN-NEVER")
        with pytest.raises(VendorRejectedError) as unknown:
            await client.rejections("FSN-NEVER")

    assert (final.group_status, final.reason_code, final.decided) == ("RJCT", "AC05", True)
    assert (final.rejected.count, final.rejected.control_sum) == (20, totals.control_sum)
    assert never_sent is None and unknown.value.problem.code == "PAYMENT_FILE_UNKNOWN"


async def test_a_refreshed_token_sends_the_whole_file_again(tmp_path: Path) -> None:
    path, totals = payroll_file(tmp_path, 25)
    uploads: list[bytes] = []

    async def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": f"t{len(uploads)}", "expires_in": 3600})
        uploads.append(await request.aread())
        if len(uploads) == 1:   # the first token has just been revoked
            return httpx.Response(401)
        return httpx.Response(202, json={"messageId": totals.message_id, "status": "ACTC"})

    client = BankClient("https://bank.example", client_id="finsync", client_secret="s",
                        transport=httpx.MockTransport(answer))
    try:
        acknowledgement = await client.send_batch_file(totals, path)
    finally:
        await client.aclose()
    assert uploads == [path.read_bytes()] * 2
    assert (acknowledgement.group_status, acknowledgement.pending.count) == ("ACTC", 25)


async def test_a_payroll_files_one_webhook_reads_as_its_counts_and_names_no_transaction(tmp_path: Path) -> None:
    path, totals = payroll_file(tmp_path, 60)
    bodies: list[bytes] = []
    async with serve(hook_receiver(bodies)) as hooks_url, bank(tmp_path) as (client, _admin):
        await client.subscribe_webhook(f"{hooks_url}/bank")
        await client.send_batch_file(totals, path)
        await arrived(bodies, count=1)
        await asyncio.sleep(0.3)   # room for a webhook per transaction or debit, which must not come

    (body,) = bodies
    counts = parse_file_status(json.loads(body)["data"]["document"])
    assert (counts.message_id, counts.group_status, counts.count, counts.decided) == (totals.message_id, "PART", 60, True)
    assert (counts.settled.count, counts.rejected.count, counts.rejected.control_sum) == (59, 1, Decimal(2007))
    assert parse_notification(body) == []   # nothing per transaction for the payment inbox
