"""What a test or demo makes the statements get wrong, as a bank sometimes does: a booking left out
(a settled payment that appears on no statement) and an extra booking nobody instructed (a bank
charge, a credit from a stranger). Each can be taken back, and the statements are as before.
"""

from __future__ import annotations

import secrets
from datetime import date
from decimal import Decimal
from typing import Any

import iso4217
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from sandboxes.bank.accounts import normalise
from sandboxes.bank.tables import (
    CREDIT,
    DEBIT,
    AccountEntry,
    CustomerAccount,
    ExtraBooking,
    LeftOutEntry,
    PaymentTransaction,
)
from sandboxes.kit.db import session

# What an extra booking is when the request does not say (ISO bank transaction codes).
CHARGE_CODE = "ACMT/MDOP/CHRG"     # account management, miscellaneous debit operations, charges
CREDIT_CODE = "PMNT/RCDT/DMCT"     # payments, received credit transfers, domestic


class CannotInject(Exception):
    """The injection names nothing the bank holds, or something it cannot be done to."""


def leave_out(engine: Engine, msg_id: str, end_to_end_id: str, direction: str = DEBIT) -> LeftOutEntry:
    """Leave the payment's debit (or its return's credit) off every statement."""
    with session(engine) as db:
        found = db.exec(select(AccountEntry).join(PaymentTransaction).where(
            PaymentTransaction.msg_id == msg_id, PaymentTransaction.end_to_end_id == end_to_end_id,
            AccountEntry.direction == direction)).first()
        if found is None or found.id is None:
            raise CannotInject(f"transaction {end_to_end_id} of payment message {msg_id} has no "
                               f"{'debit' if direction == DEBIT else 'return'} booked")
        left_out = db.get(LeftOutEntry, found.id) or LeftOutEntry(entry_id=found.id)
        db.add(left_out)
        db.commit()
    return left_out


def _take_back(engine: Engine, injection: type[LeftOutEntry] | type[ExtraBooking], key: int) -> bool:
    """Delete one injection; False if there is none under ``key``."""
    with session(engine) as db:
        found = db.get(injection, key)
        if found is None:
            return False
        db.delete(found)
        db.commit()
    return True


def put_back(engine: Engine, entry_id: int) -> bool:
    """The left-out booking is on its statement again; False if it was not left out."""
    return _take_back(engine, LeftOutEntry, entry_id)


def add_extra_booking(engine: Engine, account_id: str, *, direction: str, amount: Decimal, day: date,
                      description: str | None, bank_transaction_code: str | None = None,
                      counterparty_name: str | None = None, end_to_end_id: str | None = None) -> ExtraBooking:
    """Book ``amount`` (in the account's currency) on one of the customer's accounts on ``day``."""
    account_id = normalise(account_id)
    with session(engine) as db:
        account = db.get(CustomerAccount, account_id)
        if account is None:
            raise CannotInject(f"the bank holds no account {account_id} of the customer")
        places = amount.as_tuple().exponent
        exponent = iso4217.Currency(account.currency).exponent or 0
        if amount <= 0 or not isinstance(places, int) or -places > exponent:
            raise CannotInject(f"{amount} is not a positive {account.currency} amount with at most {exponent} decimals")
        code = bank_transaction_code or (CHARGE_CODE if direction == DEBIT else CREDIT_CODE)
        booking = ExtraBooking(
            account_id=account_id, booking_date=day.isoformat(), direction=direction,
            amount=format(amount.quantize(Decimal(1).scaleb(-exponent)), "f"), currency=account.currency,
            bank_reference=f"XTR{day:%Y%m%d}{secrets.token_hex(6).upper()}", bank_transaction_code=code,
            description=description or ("Bank charge" if direction == DEBIT else "Incoming credit transfer"),
            counterparty_name=counterparty_name if direction == CREDIT else None,
            end_to_end_id=end_to_end_id if direction == CREDIT else None)
        db.add(booking)
        db.commit()
    return booking


def remove_extra_booking(engine: Engine, booking_id: int) -> bool:
    return _take_back(engine, ExtraBooking, booking_id)


def injections(engine: Engine) -> dict[str, list[dict[str, Any]]]:
    """Every injection in force, for a test or demo to see (and take back)."""
    with session(engine) as db:
        left_out = db.exec(select(LeftOutEntry, AccountEntry, PaymentTransaction)
                           .where(LeftOutEntry.entry_id == AccountEntry.id,
                                  AccountEntry.transaction_id == PaymentTransaction.id)
                           .order_by(col(LeftOutEntry.entry_id))).all()
        extras = db.exec(select(ExtraBooking).order_by(col(ExtraBooking.id))).all()
    return {
        "leftOut": [{"entryId": entry.id, "messageId": tx.msg_id, "endToEndId": tx.end_to_end_id,
                     "account": tx.debtor_account, "creditDebit": entry.direction, "amount": entry.amount,
                     "currency": entry.currency, "bookingDate": entry.booking_date} for _, entry, tx in left_out],
        "extraBookings": [extra_booking_json(extra) for extra in extras],
    }


def extra_booking_json(booking: ExtraBooking) -> dict[str, Any]:
    return {"id": booking.id, "account": booking.account_id, "bookingDate": booking.booking_date,
            "creditDebit": booking.direction, "amount": booking.amount, "currency": booking.currency,
            "bankReference": booking.bank_reference, "bankTransactionCode": booking.bank_transaction_code,
            "description": booking.description, "counterparty": booking.counterparty_name,
            "endToEndId": booking.end_to_end_id}
