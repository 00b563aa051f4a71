"""A bank taking ISO 20022 credit transfers: pain.001 out; pain.002 and camt.054 back; camt.053
end-of-day statements."""

from connectors.bank.camt053 import parse_statements
from connectors.bank.camt054 import parse_debit_credit_notification
from connectors.bank.client import BankClient
from connectors.bank.notifications import parse_notification
from connectors.bank.pain001 import build_batch_pain001, build_pain001, write_bulk_pain001
from connectors.bank.pain002 import parse_file_status, parse_status_report
from connectors.bank.schema import InvalidPaymentFile, validate_pain001

__all__ = ["BankClient", "InvalidPaymentFile", "build_batch_pain001", "build_pain001", "parse_debit_credit_notification",
           "parse_file_status", "parse_notification", "parse_statements", "parse_status_report", "validate_pain001",
           "write_bulk_pain001"]
