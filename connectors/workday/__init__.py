"""Workday (REST and RaaS, OAuth2 refresh token) as finsync's payroll provider."""

from connectors.workday.client import WorkdayClient

__all__ = ["WorkdayClient"]
