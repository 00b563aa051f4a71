"""The payroll journal: a finalized payroll run posted per legal entity (see README, "Payroll")."""
