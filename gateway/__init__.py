"""The webhook gateway: verify, dedupe, and turn vendor events into workflow starts and signals."""
