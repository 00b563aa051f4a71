"""The payment run: a Temporal Schedule runs ``PaymentRunWorkflow`` at set hours, which sends every
payment the processes queued and that is due, one pain.001 per debtor account
(activities/payment_runs.py says how a process queues a payment and hears back)."""
