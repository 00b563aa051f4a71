"""finsync runtime: configuration, the integration store, correlation ids and the CLI."""
