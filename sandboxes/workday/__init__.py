"""Workday sandbox: a tenant's workers and payroll, in Workday's shapes (REST ``/ccx/api``, RaaS
``/ccx/service/customreport2``, OAuth 2.0 with a refresh token), state in SQLite.

- ``POST /ccx/oauth2/{tenant}/token`` refresh-token grant (auth.py);
- workers and their payment elections (workers.py), pay runs (runs.py), one-off pay inputs
  (payinputs.py), RaaS reports of payroll results, control totals and payment elections
  (reports.py), Standard Webhooks events when a run is finalized, reopened or cancelled (events.py);
- ``/_sandbox`` routes to size the workforce and to create, finalize, reopen and cancel runs with
  planted faults (admin.py); sandboxes.workday.driver calls them.

Employees are generated (sandboxes/kit/workforce.py), so 50,000 of them take no seeding, and the
company file's named employees can be on the payroll too (staff.py); a run's results are
calculated when it is finalized (payslips.py, results.py).

Where the real API is unknown or tenant-defined, the sandbox assumes (each module says more):
RaaS column names and its paging (``offset``/``limit``, ``total``); the payroll REST resources
(``payRuns``, ``payInputs``) and run versions; the error body; the event envelope and types.
"""

from sandboxes.workday.app import create_app

__all__ = ["create_app"]
