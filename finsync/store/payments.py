"""The payment run's table, and what the store does with it.

- ``payment_request``: every payment a process handed to the payment run, by its EndToEndId: the
  order as the process made it, whose it is, and where it stands (queued, claimed by a run into
  one of its files, sent, withdrawn). A run claims what is due in one statement, so no payment
  goes in two runs, however many claim at once.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import date, datetime

from sqlalchemy import Index, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Field, Session, col, select

from canonical import PaymentIdReused, PaymentOrder, PaymentRequestState
from finsync.store.database import Records, StoreTable, utcnow
from finsync.store.runtime import chunks

QUEUED, IN_RUN, SENT, WITHDRAWN = (PaymentRequestState.QUEUED.value, PaymentRequestState.IN_RUN.value,
                                   PaymentRequestState.SENT.value, PaymentRequestState.WITHDRAWN.value)


class PaymentRequest(StoreTable, table=True):
    __tablename__ = "payment_request"
    # What a run claims: the queued requests due by its day.
    __table_args__ = (Index("ix_payment_request_due", "state", "requested_execution_date"),)

    end_to_end_id: str = Field(primary_key=True)
    owner_workflow_id: str = Field(index=True)   # the process the bank's reports on it go to
    purpose: str                                 # reimbursements, supplier_payments, payroll
    debtor_entity: str
    payment_order: str                           # the canonical PaymentOrder, JSON
    amount: str                                  # Decimal as text, for reporting: the order holds the money
    currency: str
    requested_execution_date: date
    state: str                                   # PaymentRequestState
    run_key: str | None = Field(default=None, index=True)      # the run that claimed it
    message_id: str | None = Field(default=None, index=True)   # the file (MsgId) it went in, once claimed
    requested_at: datetime
    claimed_at: datetime | None = None
    sent_at: datetime | None = None

    @property
    def order(self) -> PaymentOrder:
        return PaymentOrder.model_validate_json(self.payment_order)


class PaymentRecords(Records):
    """The queue of payments due, and the runs that claim and send them."""

    def enqueue_payment(self, order: PaymentOrder, owner_workflow_id: str, purpose: str) -> PaymentRequest:
        """Queue ``order`` for the first run on or after its execution date. The same payment queued
        again (an activity retried) is the request already there, as it now stands; a different
        one under the same EndToEndId is refused (PaymentIdReused), never paid in its place."""
        transfer = order.transfer
        request = PaymentRequest(
            end_to_end_id=transfer.end_to_end_id, owner_workflow_id=owner_workflow_id, purpose=purpose,
            debtor_entity=order.debtor_entity, payment_order=order.model_dump_json(),
            amount=str(transfer.amount.amount), currency=transfer.amount.currency,
            requested_execution_date=order.requested_execution_date, state=QUEUED, requested_at=utcnow())
        with self._session() as db:
            existing = db.get(PaymentRequest, request.end_to_end_id)
            if existing is None:
                db.add(request)
                try:
                    db.commit()
                    return request
                except IntegrityError:   # the same request, queued at the same moment elsewhere
                    db.rollback()
                    existing = db.get(PaymentRequest, request.end_to_end_id)
                    assert existing is not None
        if (existing.order, existing.owner_workflow_id, existing.purpose) != (order, owner_workflow_id, purpose):
            raise PaymentIdReused(f"EndToEndId {request.end_to_end_id} is already queued for another payment "
                                  f"(of {existing.owner_workflow_id}): a payment id was reused")
        return existing

    def payment_request(self, end_to_end_id: str) -> PaymentRequest | None:
        with self._session() as db:
            return db.get(PaymentRequest, end_to_end_id)

    def claim_due_payments(self, run_key: str, as_of: date) -> list[PaymentRequest]:
        """Claim for run ``run_key`` every queued request due by ``as_of``; the run's requests (but
        those withdrawn), in the order they were queued. One statement claims, so a request goes
        to one run only, whichever runs claim at once. A run that has claimed gets what it
        claimed, nothing more: its activity retried, or the same run ran again."""
        with self._session() as db:
            claimed = self._claimed(db, run_key)
            if not claimed:
                db.exec(update(PaymentRequest)
                        .where(col(PaymentRequest.state) == QUEUED,
                               col(PaymentRequest.requested_execution_date) <= as_of)
                        .values(state=IN_RUN, run_key=run_key, claimed_at=utcnow()))
                db.commit()
                claimed = self._claimed(db, run_key)
        return claimed

    def _claimed(self, db: Session, run_key: str) -> list[PaymentRequest]:
        return list(db.exec(select(PaymentRequest).where(PaymentRequest.run_key == run_key,
                                                         PaymentRequest.state != WITHDRAWN)
                            .order_by(col(PaymentRequest.requested_at), col(PaymentRequest.end_to_end_id))).all())

    def file_payments(self, files: Mapping[str, Collection[str]]) -> None:
        """Note the file each claimed request goes in: MsgId -> its EndToEndIds."""
        with self._session() as db:
            for message_id, end_to_end_ids in files.items():
                for chunk in chunks(end_to_end_ids):
                    db.exec(update(PaymentRequest)
                            .where(col(PaymentRequest.end_to_end_id).in_(chunk))
                            .values(message_id=message_id))
            db.commit()

    def payments_in_file(self, message_id: str) -> list[PaymentRequest]:
        """The requests file ``message_id`` carries (not those withdrawn), in the order they were queued."""
        with self._session() as db:
            return list(db.exec(select(PaymentRequest).where(PaymentRequest.message_id == message_id,
                                                             PaymentRequest.state != WITHDRAWN)
                                .order_by(col(PaymentRequest.requested_at), col(PaymentRequest.end_to_end_id))).all())

    def mark_file_sent(self, message_id: str) -> None:
        """The bank has file ``message_id``: its requests are sent."""
        with self._session() as db:
            db.exec(update(PaymentRequest)
                    .where(col(PaymentRequest.message_id) == message_id, col(PaymentRequest.state) == IN_RUN)
                    .values(state=SENT, sent_at=utcnow()))
            db.commit()

    def withdraw_file(self, message_id: str) -> list[PaymentRequest]:
        """Take back the requests of file ``message_id``, which the bank refused: no run sends them
        again. Every request withdrawn from it (again, when retried), in the order they were queued."""
        with self._session() as db:
            db.exec(update(PaymentRequest)
                    .where(col(PaymentRequest.message_id) == message_id, col(PaymentRequest.state) == IN_RUN)
                    .values(state=WITHDRAWN))
            db.commit()
            return list(db.exec(select(PaymentRequest).where(PaymentRequest.message_id == message_id,
                                                             PaymentRequest.state == WITHDRAWN)
                                .order_by(col(PaymentRequest.requested_at), col(PaymentRequest.end_to_end_id))).all())
