"""What every sandbox shares: state in SQLite, OAuth tokens, fault injection, signed webhooks."""
