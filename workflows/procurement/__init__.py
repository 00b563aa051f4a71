"""Requisition-to-pay: the purchase from an approved requisition until the supplier is paid."""
