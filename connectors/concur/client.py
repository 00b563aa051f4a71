"""SAP Concur as finsync's expense platform: Expense v4, Identity v4, Financial Integration, ESS.

Reads a report through Expense v4 (which needs the owner's userId: the v3 report read finds
it from the report id alone), resolves people through Identity v4, validates and sends back
through the workflow actions, and takes approved reports off the Financial Integration queue.
The sweep's list of waiting reports comes from the Expense v3 report search.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock
from typing import Any

import httpx

from canonical import (
    ApprovalStatus,
    BusinessProblem,
    ClaimedReport,
    ExpenseReport,
    PaymentState,
    PaymentStatusReport,
    PostedJournal,
    ReportStatusChanged,
)
from connectors.concur import mapping
from connectors.concur.problems import VENDOR, rejection, report_not_found, report_state_problem
from connectors.errors import BusinessRuleError, TransientVendorError, VendorError, VendorRejectedError
from connectors.http import Token, VendorClient, exact_json, json_decimal, url_path
from finsync.config import VendorSettings

V4 = "/expensereports/v4"
FI_EXPENSE = "/financialintegration/fi/v4/companies/transactiontypes/expense/transactions"
FI_PAGE_SIZE = 100
DEFAULT_SUBSCRIPTION_ID = "finsync-expense-reports"
PAST_VALIDATION = (ApprovalStatus.PENDING_APPROVAL, ApprovalStatus.APPROVED)
V3_REPORTS = "/api/v3.0/expense/reports"
V3_PAGE_SIZE = 100   # the most the v3 list hands out a page
# The v3 list filters on one status code at a time: one query per state a report waits in for
# finsync or a person, in the order reports move through them (so one that moves on while the
# list is read turns up in a later query).
WAITING_STATES: list[tuple[str, str | None]] = [*((code, None) for code in mapping.IN_APPROVAL), ("A_APPR", "P_NOTP")]

log = logging.getLogger("finsync.connectors.concur")


@dataclass(frozen=True)
class Person:
    user_id: str
    employee_number: str
    manager_user_id: str | None


class ConcurClient(VendorClient):
    vendor = VENDOR
    correlation_header = "concur-correlationid"
    source_system = mapping.SOURCE_SYSTEM

    def __init__(self, base_url: str, *, client_id: str, client_secret: str, token_url: str | None = None,
                 timeout: float = 10.0, system_id: str = "finsync",
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        super().__init__(base_url, timeout=timeout, transport=transport)
        self._token_url = token_url or f"{self.base_url}/oauth2/v0/token"
        self._client_id = client_id
        self._client_secret = client_secret
        self._system_id = system_id           # names finsync in FI confirmations
        self._owners: dict[str, str] = {}     # reportId -> owner's userId (never changes)
        self._people: dict[str, Person] = {}  # userId -> employee number and manager

    @classmethod
    def from_settings(cls, settings: VendorSettings, *,
                      transport: httpx.AsyncBaseTransport | None = None) -> ConcurClient:
        return cls(settings.base_url, client_id=settings.client_id,
                   client_secret=settings.client_secret.get_secret_value(), token_url=settings.token_url,
                   timeout=settings.timeout_seconds, transport=transport)

    # --- VendorClient hooks ----------------------------------------------------------------
    async def fetch_token(self, http: httpx.AsyncClient) -> Token:
        """Company token by client_credentials. Concur answers ``expires_in`` as a string and
        names the data center to call in ``geolocation``."""
        body = await self.post_token_form(http, self._token_url, {
            "grant_type": "client_credentials", "client_id": self._client_id, "client_secret": self._client_secret},
            refused="Concur refused finsync's client credentials", check="expense.client_id and client_secret")
        geolocation = str(body.get("geolocation") or "").rstrip("/")
        if geolocation and geolocation != self.base_url:
            self.base_url = geolocation
            self._http.base_url = httpx.URL(geolocation)
        return Token(body["access_token"], time.monotonic() + float(body.get("expires_in") or 3600))

    def rejection(self, response: httpx.Response) -> VendorError:
        return rejection(response)

    # --- people and ownership --------------------------------------------------------------
    async def _owner_of(self, report_id: str, owner_ref: str | None = None) -> str:
        """The owner's userId: v4 reads are per user, and only v3 reads a report by id alone.
        ``owner_ref`` (from a statusChanged event or an earlier read) spares the lookup."""
        if owner_ref and report_id not in self._owners:
            self._owners[report_id] = owner_ref
        if report_id not in self._owners:
            response = await self.request("GET", url_path("/api/v3.0/expense/reports/{report}", report=report_id),
                                          params={"user": "ALL"}, allow_404=True)
            if response.status_code == 404:
                raise report_not_found(report_id)
            login = json_decimal(response)["OwnerLoginID"]
            users = json_decimal(await self.request("GET", "/profile/identity/v4/Users",
                                                    params={"filter": f"userName eq {json.dumps(login)}"}))["Resources"]
            if not users:
                raise BusinessRuleError(VENDOR, BusinessProblem(
                    code="CONCUR_USER_NOT_FOUND", system="expense",
                    reason=f"The owner of expense report {report_id} ({login}) is not in Concur's user directory."))
            self._owners[report_id] = users[0]["id"]
        return self._owners[report_id]

    async def _person(self, user_id: str) -> Person:
        if user_id not in self._people:
            user = json_decimal(await self.request("GET", url_path("/profile/identity/v4/Users/{user}", user=user_id)))
            enterprise = user.get("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User") or {}
            if not enterprise.get("employeeNumber"):
                raise BusinessRuleError(VENDOR, BusinessProblem(
                    code="EMPLOYEE_NUMBER_MISSING", system="expense", field="employeeNumber",
                    reason=f"Concur user {user.get('displayName') or user_id} has no employee number, so finsync "
                           "cannot tell which employee to reimburse; set it in Concur's user profile."))
            self._people[user_id] = Person(user_id, enterprise["employeeNumber"],
                                           (enterprise.get("manager") or {}).get("value"))
        return self._people[user_id]

    # --- ExpensePlatform -------------------------------------------------------------------
    async def get_report(self, report_id: str, owner_ref: str | None = None) -> ExpenseReport:
        owner = await self._owner_of(report_id, owner_ref)
        report_path = url_path(V4 + "/users/{user}/context/TRAVELER/reports/{report}", user=owner, report=report_id)
        response = await self.request("GET", report_path, allow_404=True)
        if response.status_code == 404:
            if owner_ref and self._owners.pop(report_id, None) == owner_ref:
                return await self.get_report(report_id)   # a stale owner: find the real one
            raise report_not_found(report_id)
        header = json_decimal(response)
        expenses = json_decimal(await self.request("GET", f"{report_path}/expenses"))
        person = await self._person(owner)
        approver = (await self._person(person.manager_user_id)).employee_number if person.manager_user_id else None
        return mapping.expense_report(header, expenses, employee_id=person.employee_number, approver_id=approver,
                                      owner_user_id=owner)

    async def pass_validation(self, report_id: str, comment: str, *, owner_ref: str | None = None,
                              lookup_first: bool = False) -> None:
        """Approve the external-validation step (A_EXTV -> A_PEND, step EXTVAL).

        The same call approves for the manager once the report is in A_PEND, so it names the
        status it expects (``statusId`` A_EXTV) and Concur refuses it in any other. A retry
        (``lookup_first``) reads the report first: if the lost answer's approval went through,
        the step is done and nothing is sent a second time."""
        if lookup_first:
            report = await self.get_report(report_id, owner_ref)
            if report.approval_status in PAST_VALIDATION:
                return
            if report.approval_status is not ApprovalStatus.PENDING_VALIDATION:
                raise report_state_problem(report, "released to its approver")
        try:
            await self._workflow_action(report_id, "approve", comment, status_id="A_EXTV")
        except BusinessRuleError as exc:
            report = await self._refused(report_id, exc, owner_ref)
            if report.approval_status not in PAST_VALIDATION:
                raise report_state_problem(report, "released to its approver") from exc

    async def send_back(self, report_id: str, reason: str, *, owner_ref: str | None = None) -> None:
        try:
            await self._workflow_action(report_id, "sendBack", reason)
        except BusinessRuleError as exc:
            report = await self._refused(report_id, exc, owner_ref)
            if report.approval_status is not ApprovalStatus.RETURNED:
                raise report_state_problem(report, "sent back") from exc
            # Already with the employee after a send-back: nothing left to do.

    async def _workflow_action(self, report_id: str, action: str, comment: str, status_id: str | None = None) -> None:
        body = {"comment": comment, "reportSource": "OTHER"}
        if status_id:
            body["statusId"] = status_id
        await self.request("PATCH", url_path(V4 + "/reports/{report}/{action}", report=report_id, action=action),
                           ok=(204,), json=body)

    async def _refused(self, report_id: str, exc: BusinessRuleError, owner_ref: str | None = None) -> ExpenseReport:
        """The report as it is now, to explain a refused workflow action; other refusals re-raise."""
        if exc.problem.code != "CONCUR_STATE_CONFLICT":
            raise exc
        return await self.get_report(report_id, owner_ref)

    async def claim_for_posting(self, report_id: str, owner_ref: str | None = None) -> ClaimedReport:
        report = await self.get_report(report_id, owner_ref)
        if report.approval_status is not ApprovalStatus.APPROVED:
            raise report_state_problem(report, "posted")
        doc_id = await self._find_document(report_id, "READY")
        if doc_id is not None:
            await self._acknowledge(report, doc_id)
        else:
            # Claimed before (perhaps by an attempt whose answer was lost): same claim again.
            doc_id = await self._find_document(report_id, "ACKNOWLEDGED")
        if doc_id is None:
            raise TransientVendorError(VENDOR, f"approved report {report_id} is not yet on Concur's "
                                       "Financial Integration queue")
        return ClaimedReport(report=report, posting_ref=doc_id)

    async def _find_document(self, report_id: str, doc_status: str) -> str | None:
        """The newest FI document for the report among those in ``doc_status``, paging through.

        ``docStatus`` is a sandbox extension for ACKNOWLEDGED; READY is Concur's default."""
        found, page = None, 0
        while True:
            params: dict[str, Any] = {"limit": FI_PAGE_SIZE, "page": page}
            if doc_status != "READY":
                params["docStatus"] = doc_status
            body = json_decimal(await self.request("GET", FI_EXPENSE, params=params))
            for item in body.get("content") or []:
                if _document_report_id(item) == report_id:
                    found = item["id"]
            page_info = body.get("page") or {}
            if page + 1 >= int(page_info.get("totalPages") or 0):
                return found
            page += 1

    async def _acknowledge(self, report: ExpenseReport, doc_id: str) -> None:
        results = json_decimal(await self.request("POST", f"{FI_EXPENSE}/acknowledgements", json={"ids": [doc_id]}))
        item = _result_for(results, doc_id, key="id")
        if item.get("code") not in (0, 101):  # 101: acknowledged before, which is this same claim
            raise BusinessRuleError(VENDOR, BusinessProblem(
                code="FI_DOCUMENT_UNAVAILABLE", system="expense", vendor_code=str(item.get("code")),
                reason=f"Concur would not hand over expense report {report.report_id} for posting: "
                       f"{item.get('message') or 'no reason given'}."))

    async def confirm_posting(self, claim: ClaimedReport, posted: PostedJournal) -> None:
        body = {"systemId": self._system_id, "postingConfirmations": [{
            "docId": claim.posting_ref,
            "overallPostingStatusCode": "success",
            "postingDocs": [{"companyId": posted.entity, "documentNumber": posted.document_number,
                             "fiscalYear": str(posted.posting_date.year),
                             "postingDate": posted.posting_date.isoformat(), "paymentRelevantLineItems": []}],
            "systemMessages": [{"messageLanguage": "EN", "messageShortText":
                                f"Posted as {posted.document_number} ({posted.external_id})"}],
        }]}
        await self._confirm("postingconfirmations", body, claim, "posting of ERP document "
                            f"{posted.document_number}")

    async def confirm_payment(self, claim: ClaimedReport, payment: PaymentStatusReport) -> None:
        if payment.state is not PaymentState.SETTLED:
            raise ValueError(f"only a settled payment can be confirmed to Concur; {payment.end_to_end_id} "
                             f"is {payment.state}")
        amount = payment.amount or claim.report.reimbursement_total
        paid_on = payment.booking_date or (payment.received_at.date() if payment.received_at else date.today())
        body = {"systemId": self._system_id, "processingConfirmation": [{
            "docId": claim.posting_ref,
            "processingStatusCode": "CP",  # completely paid
            "clearingDetails": [{
                "clearingDate": datetime.combine(paid_on, clock(12), UTC).isoformat().replace("+00:00", "Z"),
                "clearingAmount": amount.amount,
                "clearingCurrency": amount.currency,
                "receiver": {"receiverId": claim.report.employee_id, "receiverName": claim.report.employee_id,
                             "receiverType": "EMPLOYEE"},
                "clearingReference": {"financialDocumentId": payment.bank_reference or payment.end_to_end_id,
                                      "fiscalYear": str(paid_on.year), "paymentRef": payment.end_to_end_id,
                                      "paymentMethod": "E"},
            }],
        }]}
        await self._confirm("paymentconfirmations", body, claim, f"payment {payment.end_to_end_id}")

    async def _confirm(self, kind: str, body: dict[str, Any], claim: ClaimedReport, what: str) -> None:
        response = await self.request("POST", f"{FI_EXPENSE}/{kind}", content=exact_json(body),
                                      headers={"Content-Type": "application/json"})
        item = _result_for(json_decimal(response), claim.posting_ref, key="docId")
        code = item.get("code")
        if code == 0:
            return
        report = claim.report
        if code == 105:  # the report left A_APPR after it was claimed
            raise BusinessRuleError(VENDOR, BusinessProblem(
                code="REPORT_RECALLED", system="expense", vendor_code="105",
                reason=f"Concur could not record the {what} for expense report {report.report_id} ({report.name}): "
                       "the employee recalled the report after it was approved."))
        problem = BusinessProblem(code="FI_CONFIRMATION_REFUSED", system="expense", vendor_code=str(code),
                                  reason=f"Concur refused the {what} for expense report {report.report_id}: "
                                         f"{item.get('message') or 'no reason given'}.")
        raise (BusinessRuleError if code == 104 else VendorRejectedError)(VENDOR, problem)

    # --- the list a sweep reads ---------------------------------------------------------------
    async def changed_reports(self, since: datetime | None, *,
                              page_size: int = V3_PAGE_SIZE) -> AsyncIterator[ReportStatusChanged]:
        """Through the Expense v3 list (``modifiedDateAfter``; the docs show a date, the
        parameter is a DateTime and finsync sends one). Only the ``offset`` of ``NextPage`` is
        used, on finsync's own base URL: the token never goes to an address a response names."""
        for approval, payment in WAITING_STATES:
            params: dict[str, Any] = {"user": "ALL", "limit": page_size, "approvalStatusCode": approval}
            if payment:
                params["paymentStatusCode"] = payment
            if since is not None:
                params["modifiedDateAfter"] = since.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
            while True:
                body = json_decimal(await self.request("GET", V3_REPORTS, params=params))
                for item in body.get("Items") or []:
                    change = _listed_change(item)
                    if change is not None:
                        yield change
                offset = httpx.URL(body["NextPage"]).params.get("offset") if body.get("NextPage") else None
                if not offset:
                    break
                if offset == params.get("offset"):
                    raise TransientVendorError(VENDOR, f"Concur's report list handed out the same page twice ({approval})")
                params["offset"] = offset

    # --- webhooks --------------------------------------------------------------------------
    async def subscribe_webhook(self, endpoint: str, subscription_id: str = DEFAULT_SUBSCRIPTION_ID) -> None:
        """Have Concur's Event Subscription Service post report status changes to ``endpoint``."""
        await self.request("PUT", "/events/v4/subscriptions/webhook", ok=(200, 201), json={
            "id": subscription_id, "filter": ".*", "topic": "public.concur.expense.report",
            "webHookConfig": {"endpoint": endpoint}})


def _listed_change(item: dict[str, Any]) -> ReportStatusChanged | None:
    """A v3 list row as a status change stamped with its ``LastModifiedDate``; None (logged)
    for a row finsync cannot read, which must not hold up the rest of the list."""
    try:
        report_id, approval = str(item["ID"]), str(item["ApprovalStatusCode"])
        payment = str(item.get("PaymentStatusCode") or "P_NOTP")
        modified = mapping.parse_timestamp(str(item["LastModifiedDate"]))
        approval_status = mapping.approval_status(approval)
    except (KeyError, ValueError) as error:
        log.warning("Concur report list row skipped, unreadable (%r): %.200s", error, json.dumps(item, default=str))
        return None
    try:
        payment_status = mapping.payment_status(payment)
    except ValueError:   # an admin-defined payment code: the workflow does not act on payment status
        payment_status = None
    event_id = f"concur-list:{report_id}:{approval}:{payment}:{modified.isoformat()}"
    return ReportStatusChanged(event_id=event_id, source_system=mapping.SOURCE_SYSTEM, report_id=report_id,
                               approval_status=approval_status, payment_status=payment_status,
                               occurred_at=modified, correlation_id=event_id)


def _document_report_id(item: dict[str, Any]) -> str | None:
    """The reportId inside an FI item's ``document`` (a JSON string); None if unreadable."""
    try:
        document = json.loads(item.get("document") or "")
    except ValueError:
        return None
    return document.get("reportId") if isinstance(document, dict) else None


def _result_for(results: Any, doc_id: str, *, key: str) -> dict[str, Any]:
    for item in results if isinstance(results, list) else []:
        if isinstance(item, dict) and item.get(key) == doc_id:
            return item
    raise TransientVendorError(VENDOR, f"Concur's answer has no result for document {doc_id}")
