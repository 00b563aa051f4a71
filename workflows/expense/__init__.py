"""Expense-to-reimbursement: one workflow per expense report, from submission to paid."""
