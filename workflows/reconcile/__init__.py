"""The daily reconciliation: a Temporal Schedule runs ``DailyReconciliationWorkflow`` each morning,
which compares the day before in finsync's feed, the ERP and the bank, per legal entity, and keeps
the differences in the integration store (``finsync reconcile`` runs the same comparison on demand)."""
