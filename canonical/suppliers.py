"""The supplier check, before finsync commits money to a supplier: active, not on hold, and a bank
account finsync can pay (an IBAN and BIC checked with schwifty, or an account number and BIC).

Run it in an activity, never in workflow code. schwifty reads its country and bank registries
from data files on first use, which the workflow sandbox refuses (``open`` is restricted even for
a module imported through ``imports_passed_through``); and those registries change with the
package version, so a workflow deciding on them could take another branch when it replays after
an upgrade. An activity's result is recorded once. It lives in canonical rather than in
workflows/procurement because activities may not import workflows; it is not exported from
``canonical`` so that workflow code importing the contract does not pull schwifty in.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel, ConfigDict, model_validator
from schwifty import BIC, IBAN
from schwifty import exceptions as bank_errors

from canonical.parties import BankAccount
from canonical.problems import BusinessProblem, ProblemCode
from canonical.procurement import RemitTo, Supplier, SupplierStatus

SEPA_CURRENCY = "EUR"   # a SEPA credit transfer names the creditor's account by IBAN only
Parsed = TypeVar("Parsed", IBAN, BIC)
Complaint = Callable[[str, str], None]   # (the value at fault, why): one bank-details problem
_FIX_BANK = "ask the supplier for its bank details, correct them in the procurement platform, then retry."


class SupplierCheck(BaseModel):
    """The account to pay the supplier on, or every reason it cannot be paid (never both)."""

    model_config = ConfigDict(frozen=True)

    supplier_id: str
    account: BankAccount | None = None
    problems: list[BusinessProblem] = []

    @model_validator(mode="after")
    def _account_or_problems(self) -> SupplierCheck:
        if (self.account is None) == (not self.problems):
            raise ValueError("a supplier check has either the account or its problems")
        return self

    @property
    def ok(self) -> bool:
        return self.account is not None


def check_supplier(supplier: Supplier, currency: str) -> SupplierCheck:
    """``currency``: what the supplier is paid in (the entity's)."""
    problems = []
    name = f"{supplier.name} ({supplier.number})"
    if supplier.status is not SupplierStatus.ACTIVE:
        problems.append(_problem(ProblemCode.SUPPLIER_INACTIVE, supplier.number, (
            f"Supplier {name} is inactive in the procurement platform: reactivate it there and retry, or cancel "
            "the requisition.")))
    if supplier.on_hold:
        problems.append(_problem(ProblemCode.SUPPLIER_ON_HOLD, supplier.number, (
            f"Supplier {name} is on hold: nothing is paid to it until purchasing or AP releases the hold in the "
            "procurement platform; then retry, or cancel the requisition.")))
    if supplier.remit_to is None:
        problems.append(_problem(ProblemCode.SUPPLIER_BANK_INVALID, supplier.number, (
            f"Supplier {name} has no remit-to bank details: {_FIX_BANK}")))
        return SupplierCheck(supplier_id=supplier.supplier_id, problems=problems)
    account, bank_problems = _bank_account(supplier, supplier.remit_to, currency.upper())
    problems += bank_problems
    if problems:
        return SupplierCheck(supplier_id=supplier.supplier_id, problems=problems)
    return SupplierCheck(supplier_id=supplier.supplier_id, account=account)


def _bank_account(supplier: Supplier, remit: RemitTo, currency: str) -> tuple[BankAccount | None, list[BusinessProblem]]:
    """The account, or its problems; the subject of each is the value at fault, or the supplier's
    number where a value is missing."""
    problems: list[BusinessProblem] = []
    missing = supplier.number

    def bad(subject: str, why: str) -> None:
        problems.append(_problem(ProblemCode.SUPPLIER_BANK_INVALID, subject, f"{supplier.name}'s {why}: {_FIX_BANK}"))

    if not remit.holder_name.strip():
        bad(missing, "bank details name no account holder")
    iban = _parsed("IBAN", lambda text: IBAN(text, validate_bban=True), remit.iban, _IBAN_FAULTS, bad) if remit.iban else None
    if not remit.iban:
        if currency == SEPA_CURRENCY:
            bad(missing, f"bank details have no IBAN, which a payment in {currency} (SEPA credit transfer) needs")
        if not (remit.account_number or "").strip():
            bad(missing, "bank details have neither an IBAN nor an account number")
        if remit.routing_number and not routing_number_is_valid(remit.routing_number):
            bad(remit.routing_number, f"routing number {remit.routing_number} is not a valid 9-digit ABA routing number")
    bic = (_parsed("BIC", lambda text: BIC(text, enforce_swift_compliance=True), remit.bic, _BIC_FAULTS, bad) if remit.bic
           else iban.bic if iban is not None else None)
    if not remit.bic and bic is None:
        bad(missing, "bank details have no BIC" + (", and finsync cannot tell the bank from the IBAN" if iban else
                                                 ", which the payment file names the supplier's bank by"))
    if problems or bic is None:
        return None, problems
    try:
        return BankAccount(holder_name=remit.holder_name.strip(), bic=bic.compact,
                           iban=iban.compact if iban else None, account_number=remit.account_number), []
    except ValueError as error:   # canonical's own rules, stricter than schwifty's somewhere
        bad(missing, f"bank details are not an account finsync can pay to ({error})")
        return None, problems


def _parsed(kind: str, parse: Callable[[str], Parsed], text: str, faults: dict[type[Exception], str],
            bad: Complaint) -> Parsed | None:
    try:
        return parse(text)
    except bank_errors.SchwiftyException as error:
        shown = text.replace(" ", "").upper()
        bad(shown, f"{kind} {shown} {faults.get(type(error), f'is not a valid {kind} ({error})')}")
        return None


def routing_number_is_valid(number: str) -> bool:
    """An ABA routing number: nine digits whose weighted sum (3, 7, 1, ...) is a multiple of ten."""
    if len(number) != 9 or not number.isdigit():
        return False
    return sum(int(digit) * weight for digit, weight in zip(number, [3, 7, 1] * 3, strict=True)) % 10 == 0


def _problem(code: ProblemCode, subject: str, reason: str) -> BusinessProblem:
    return BusinessProblem(code=code, system="procurement", subject=subject, reason=reason)


_IBAN_FAULTS: dict[type[Exception], str] = {
    bank_errors.InvalidChecksumDigits: "has wrong check digits",
    bank_errors.InvalidLength: "has the wrong number of characters for its country",
    bank_errors.InvalidCountryCode: "does not start with the code of a country that uses IBANs",
    bank_errors.InvalidStructure: "is not laid out the way its country's IBANs are",
    bank_errors.InvalidBBANChecksum: "has wrong national check digits (a typo in the bank code or account number)",
}
_BIC_FAULTS: dict[type[Exception], str] = {
    bank_errors.InvalidLength: "is not 8 or 11 characters long",
    bank_errors.InvalidStructure: "is not laid out as a BIC (bank, country, location and an optional branch)",
    bank_errors.InvalidCountryCode: "does not name a known country",
}
