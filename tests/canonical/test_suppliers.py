"""The supplier check: who can be paid, on which account, and what finance must fix otherwise."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from canonical import BankAccount, ProblemCode
from canonical.procurement import RemitTo, Supplier, SupplierStatus
from canonical.suppliers import SupplierCheck, check_supplier, routing_number_is_valid

CONTOSO = RemitTo(holder_name="Contoso Industrial GmbH", bic="COBADEFFXXX", iban="DE89370400440532013000")
NORTHWIND = RemitTo(holder_name="Northwind Office Supply", bic="CHASUS33XXX", account_number="4000123456",
                    routing_number="021000021")


def supplier(remit: RemitTo | None, name: str = "Tailspin Parts GmbH", status: SupplierStatus = SupplierStatus.ACTIVE,
             on_hold: bool = False) -> Supplier:
    return Supplier(supplier_id="17", number="SUP-400", name=name, status=status, on_hold=on_hold, currency="EUR",
                    remit_to=remit)


def problems(remit: RemitTo | None, currency: str = "EUR", **fields: object) -> list[tuple[str, str | None, str]]:
    check = check_supplier(supplier(remit, **fields), currency)   # type: ignore[arg-type]
    assert check.account is None
    return [(p.code, p.subject, p.reason) for p in check.problems]


def test_an_iban_account_is_validated_and_normalized():
    check = check_supplier(supplier(CONTOSO.model_copy(update={"iban": "de89 3704 0044 0532 0130 00"})), "EUR")
    assert check.ok and check.problems == []
    assert check.account == BankAccount(holder_name="Contoso Industrial GmbH", bic="COBADEFFXXX",
                                        iban="DE89370400440532013000")


def test_without_a_bic_the_bank_is_looked_up_from_the_iban():
    check = check_supplier(supplier(CONTOSO.model_copy(update={"bic": None})), "EUR")
    assert check.account is not None and check.account.bic == "COBADEFFXXX"


def test_a_us_account_is_an_account_number_with_a_bic_and_a_valid_routing_number():
    check = check_supplier(supplier(NORTHWIND, name="Northwind Office Supply"), "USD")
    assert check.account == BankAccount(holder_name="Northwind Office Supply", bic="CHASUS33XXX", account_number="4000123456")


def test_wrong_iban_check_digits_say_whose_and_what_to_do():
    [(code, subject, reason)] = problems(CONTOSO.model_copy(update={"iban": "DE00370400440532013001"}))
    assert (code, subject) == (ProblemCode.SUPPLIER_BANK_INVALID, "DE00370400440532013001")
    assert reason == ("Tailspin Parts GmbH's IBAN DE00370400440532013001 has wrong check digits: ask the supplier for "
                      "its bank details, correct them in the procurement platform, then retry.")


@pytest.mark.parametrize(("iban", "fault"), [
    ("DE8937040044053201300", "has the wrong number of characters for its country"),
    ("XX89370400440532013000", "does not start with the code of a country that uses IBANs"),
    ("DE14370400441234567890", "has wrong national check digits"),   # mod 97 right, the German account check wrong
])
def test_each_kind_of_bad_iban_is_named(iban: str, fault: str):
    [(_, subject, reason)] = problems(CONTOSO.model_copy(update={"iban": iban}))
    assert subject == iban and f"IBAN {iban} {fault}" in reason


def test_a_bad_bic_is_named():
    [(_, subject, reason)] = problems(CONTOSO.model_copy(update={"bic": "C0BADEFF"}))
    assert subject == "C0BADEFF" and "BIC C0BADEFF is not laid out as a BIC (bank, country" in reason


def test_an_iban_whose_bank_finsync_cannot_tell_needs_a_bic():
    [(_, _, reason)] = problems(RemitTo(holder_name="Fabrikam UK", iban="GB82WEST12345698765432"), currency="GBP")
    assert "no BIC, and finsync cannot tell the bank from the IBAN" in reason


def test_a_euro_payment_needs_an_iban():
    [(_, _, reason)] = problems(NORTHWIND, currency="EUR")
    assert "no IBAN, which a payment in EUR (SEPA credit transfer) needs" in reason


def test_an_account_without_iban_needs_an_account_number_a_bic_and_a_valid_routing_number():
    remit = RemitTo(holder_name="Northwind Office Supply", routing_number="021000022")
    found = problems(remit, currency="USD")
    assert [subject for _, subject, _ in found] == ["SUP-400", "021000022", "SUP-400"]
    reasons = [reason for _, _, reason in found]
    assert "neither an IBAN nor an account number" in reasons[0]
    assert "routing number 021000022 is not a valid 9-digit ABA routing number" in reasons[1]
    assert "no BIC, which the payment file names the supplier's bank by" in reasons[2]


def test_every_reason_a_supplier_cannot_be_paid_is_given_at_once():
    found = problems(None, status=SupplierStatus.INACTIVE, on_hold=True)
    assert [(code, subject) for code, subject, _ in found] == [
        (ProblemCode.SUPPLIER_INACTIVE, "SUP-400"), (ProblemCode.SUPPLIER_ON_HOLD, "SUP-400"),
        (ProblemCode.SUPPLIER_BANK_INVALID, "SUP-400")]
    assert "Tailspin Parts GmbH (SUP-400) is on hold" in found[1][2]
    assert "has no remit-to bank details" in found[2][2]


def test_on_hold_with_good_bank_details_is_still_refused():
    assert [code for code, _, _ in problems(CONTOSO, on_hold=True)] == [ProblemCode.SUPPLIER_ON_HOLD]


def test_routing_numbers():
    assert routing_number_is_valid("021000021")   # JPMorgan Chase, New York
    assert not routing_number_is_valid("021000022")
    assert not routing_number_is_valid("02100002")
    assert not routing_number_is_valid("02100002a")


def test_a_check_is_either_an_account_or_problems_and_crosses_an_activity_boundary():
    check = check_supplier(supplier(CONTOSO), "EUR")
    assert SupplierCheck.model_validate_json(check.model_dump_json()) == check
    with pytest.raises(ValidationError):
        SupplierCheck(supplier_id="17")
