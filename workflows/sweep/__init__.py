"""The sweep: a Temporal Schedule runs ``ExpenseSweepWorkflow`` every few minutes, which finds the
expense reports no webhook brought and starts their workflows the way the gateway does."""
