"""finsync configuration: one TOML file, overridable by environment variables.

Order of precedence: ``FINSYNC_*`` environment variables (nested with ``__``, e.g.
``FINSYNC_ERP__BASE_URL``), then one TOML file (see ``config_file``), then the defaults below,
which describe the local stack that ``finsync dev`` runs. Pointing a connector at a real tenant
is a change here only.
"""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"
# Where ``finsync dev`` writes the local stack's configuration, relative to the working directory.
LOCAL_STACK_CONFIG = Path(".finsync") / "finsync.toml"


def config_file() -> Path | None:
    """The TOML file every finsync command reads, so they all find the one ``finsync dev`` uses:
    ``FINSYNC_CONFIG`` if set, else ``./finsync.toml``, else ``./.finsync/finsync.toml``.
    None when there is none (the defaults apply). A ``FINSYNC_CONFIG`` is returned even when it
    does not exist; the CLI says so rather than quietly running on defaults."""
    named = os.environ.get("FINSYNC_CONFIG")
    return Path(named) if named else config_in_working_directory()


def config_in_working_directory() -> Path | None:
    """What a command finds without ``FINSYNC_CONFIG``: ``./finsync.toml``, else ``./.finsync/finsync.toml``."""
    for candidate in (Path("finsync.toml"), LOCAL_STACK_CONFIG):
        if candidate.is_file():
            return candidate
    return None


class TemporalSettings(BaseModel):
    address: str = "127.0.0.1:7233"
    namespace: str = "default"
    tls: bool = False
    tls_client_cert: Path | None = None
    tls_client_key: Path | None = None
    api_key: SecretStr | None = None
    workflow_task_queue: str = "finsync-workflows"
    ui_port: int = 8233                # the dev server's Web UI (``finsync dev``), on the address's host


class VendorSettings(BaseModel):
    kind: str                          # which connector: "concur", "netsuite", "iso20022-bank", "coupa", "workday"
    base_url: str
    token_url: str | None = None       # default: the vendor's usual path under base_url
    client_id: str = "finsync"
    client_secret: SecretStr = SecretStr("sandbox-secret")
    timeout_seconds: float = 10.0
    task_queue: str                    # activities for this vendor run here, rate-limited together
    max_requests_per_second: float | None = None  # for the whole task queue, across all workers
    max_concurrent_activities: int = 50


class ExpenseVendorSettings(VendorSettings):
    kind: str = "concur"
    base_url: str = "http://127.0.0.1:8701"
    task_queue: str = "finsync-expense"
    max_requests_per_second: float | None = 50


class ErpVendorSettings(VendorSettings):
    kind: str = "netsuite"
    base_url: str = "http://127.0.0.1:8702"
    task_queue: str = "finsync-erp"
    max_requests_per_second: float | None = 50
    # NetSuite OAuth 2.0 M2M: the client assertion is a JWT signed with this key, whose
    # certificate id (kid) was registered in the NetSuite account.
    private_key_file: Path | None = None
    certificate_id: str | None = None


class ProcurementVendorSettings(VendorSettings):
    kind: str = "coupa"
    base_url: str = "http://127.0.0.1:8704"
    task_queue: str = "finsync-procurement"
    # Coupa allows 25 requests/s per client; the server-side limit of this task queue keeps every
    # worker together below it.
    max_requests_per_second: float | None = 20
    # OAuth scopes finsync asks for: read what it polls, write what it issues, cancels, closes,
    # voids, pays and marks exported. Requesters and approvers act in Coupa, not through finsync.
    scopes: list[str] = [
        "core.requisition.read", "core.requisition.write", "core.purchase_order.read", "core.purchase_order.write",
        "core.inventory_transaction.read", "core.inventory_transaction.write", "core.invoice.read",
        "core.invoice.write", "core.supplier.read"]
    # The poller (Coupa's documented integration; see workflows/procurement/poll.py): a Temporal
    # Schedule reads what changed every poll_interval_seconds, from poll_overlap_seconds before
    # where the last poll began (Coupa stamps to the second; exported=false drops what was taken).
    poll_enabled: bool = True          # False: setup and dev pause the schedule (or create none)
    poll_interval_seconds: int = Field(60, ge=10)
    poll_overlap_seconds: int = Field(120, ge=0)


class PayrollVendorSettings(VendorSettings):
    """The payroll system (Workday): OAuth 2.0 with the refresh token of the integration system user
    its API client was registered for, and the RaaS reports that user shares."""

    kind: str = "workday"
    base_url: str = "http://127.0.0.1:8705"
    task_queue: str = "finsync-payroll"
    max_requests_per_second: float | None = 10
    timeout_seconds: float = 30.0      # a page of results is thousands of rows
    tenant: str = "finsync_demo"
    report_owner: str = "ISU_Finsync"  # the user the RaaS reports are shared by (in their URLs)
    refresh_token: SecretStr = SecretStr("sandbox-refresh-token")
    results_page_size: int = Field(5000, ge=1, le=10_000)   # rows of the results report per call


class DebtorAccount(BaseModel):
    """One of the company's bank accounts, and the GL account that mirrors it in the ERP."""

    name: str                          # the account holder, as the bank knows it
    bic: str
    iban: str | None = None
    account_number: str | None = None  # where there is no IBAN (US)
    gl_account: str


class PaymentPurpose(StrEnum):
    """What a payment is for: each purpose pays from its own accounts."""

    REIMBURSEMENTS = "reimbursements"        # expense reports
    SUPPLIER_PAYMENTS = "supplier_payments"  # payment runs of supplier invoices
    PAYROLL = "payroll"


# Legal entity code -> currency -> the account that pays in it.
EntityAccounts = dict[str, dict[str, DebtorAccount]]


def _demo_accounts() -> EntityAccounts:
    return {
        "US01": {"USD": DebtorAccount(name="Finsync Demo Inc.", account_number="000123456789", bic="CHASUS33XXX",
                                      gl_account="1010")},
        "DE01": {"EUR": DebtorAccount(name="Finsync Demo GmbH", iban="DE02120300000000202051", bic="BYLADEM1001",
                                      gl_account="1020")},
    }


class BankVendorSettings(VendorSettings):
    kind: str = "iso20022-bank"
    base_url: str = "http://127.0.0.1:8703"
    task_queue: str = "finsync-bank"
    max_requests_per_second: float | None = 50
    # The company's own accounts that payments leave from: by purpose, then legal entity code, then
    # currency. The demo company pays every purpose from the same two accounts.
    debtor_accounts: dict[PaymentPurpose, EntityAccounts] = Field(
        default_factory=lambda: {purpose: _demo_accounts() for purpose in PaymentPurpose})
    # A payment in a currency the entity has no account in leaves from its functional-currency
    # account, and the bank converts (false: such a payment parks until an account is configured).
    pay_cross_currency: bool = True

    @field_validator("debtor_accounts", mode="before")
    @classmethod
    def _by_purpose(cls, value: Any) -> Any:
        """Configuration from before purposes (entity -> currency -> account) names the accounts
        reimbursements are paid from; the other purposes then have none."""
        if isinstance(value, dict) and value and not set(value) & set(PaymentPurpose):
            return {PaymentPurpose.REIMBURSEMENTS: value}
        return value

    def accounts_for(self, purpose: PaymentPurpose) -> EntityAccounts:
        return self.debtor_accounts.get(purpose, {})

    @property
    def entities(self) -> list[str]:
        """The legal entities finsync pays from, for any purpose."""
        return sorted({entity for by_entity in self.debtor_accounts.values() for entity in by_entity})


class WebhookSettings(BaseModel):
    # Standard Webhooks secrets (whsec_<base64>): several allowed during a key rotation.
    expense_secrets: list[SecretStr] = [SecretStr("whsec_Zmluc3luYy1sb2NhbC1jb25jdXItd2ViaG9vay1rZXk=")]
    bank_secrets: list[SecretStr] = [SecretStr("whsec_Zmluc3luYy1sb2NhbC1iYW5rLXdlYmhvb2sta2V5LTE=")]
    # The procurement sandbox's optional events (Coupa itself is polled).
    procurement_secrets: list[SecretStr] = [SecretStr("whsec_Zmluc3luYy1sb2NhbC1wcm9jdXJlbWVudC13ZWJob29rLWtleQ==")]
    # The payroll system's pay run events (finalized, reopened, cancelled).
    payroll_secrets: list[SecretStr] = [SecretStr("whsec_Zmluc3luYy1sb2NhbC1wYXlyb2xsLXdlYmhvb2sta2V5")]
    tolerance_seconds: int = 300
    max_body_bytes: int = 256 * 1024


class ServiceAddress(BaseModel):
    host: str = "127.0.0.1"
    port: int


class RulesSettings(BaseModel):
    expense_policy: Path = CONFIG_DIR / "expense-policy.toml"
    expense_accounts: Path = CONFIG_DIR / "expense-accounts.toml"
    procurement: Path = CONFIG_DIR / "procurement.toml"


class TelemetrySettings(BaseModel):
    # Tracing: the gateway and the worker export spans to this OTLP/HTTP collector (base URL, e.g.
    # "http://127.0.0.1:4318"; needs the ``otel`` extra). Unset: no SDK, spans cost nothing.
    otlp_endpoint: str | None = None
    service_name: str = "finsync"
    # Metrics: the worker serves the Temporal SDK's metrics at http://<this>/metrics, e.g.
    # "127.0.0.1:9464". Unset: no metrics server.
    prometheus_bind: str | None = None


class SweepSettings(BaseModel):
    """The sweep that finds expense reports no webhook brought (see workflows/sweep/)."""

    enabled: bool = True               # False: setup and dev create no schedule (a running one is left alone)
    interval_seconds: int = Field(300, ge=10)
    # Each sweep reads from this long before where the last one started: the platform's clock
    # may run behind finsync's, and a change may be committed a moment after it is stamped.
    overlap_seconds: int = Field(120, ge=0)


class ReconciliationSettings(BaseModel):
    """The daily reconciliation of finsync's feed, the ERP and the bank (see workflows/reconcile/)."""

    enabled: bool = True               # False: setup and dev pause the schedule (or create none)
    hour: int = Field(6, ge=0, le=23)  # each day at this hour (UTC), the day before is reconciled


class PaymentsSettings(BaseModel):
    """The payment run that sends the payments processes queued (see workflows/payments/)."""

    enabled: bool = True                   # False: setup and dev pause the schedule (or create none)
    # Each day at these hours (UTC) a run sends every queued payment due that day or before, one
    # file per debtor account.
    run_hours: list[int] = Field(default_factory=lambda: [10, 15], min_length=1)

    @field_validator("run_hours")
    @classmethod
    def _hours_of_a_day(cls, hours: list[int]) -> list[int]:
        wrong = [hour for hour in hours if not 0 <= hour <= 23]
        if wrong:
            raise ValueError(f"run hours are hours of the day, 0 to 23 (UTC), not {', '.join(map(str, wrong))}")
        return sorted(set(hours))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FINSYNC_", env_nested_delimiter="__", extra="ignore")

    data_dir: Path = Path(".finsync")
    store_url: str = ""                # sqlmodel URL; default: SQLite under data_dir
    temporal: TemporalSettings = TemporalSettings()
    expense: ExpenseVendorSettings = ExpenseVendorSettings()
    erp: ErpVendorSettings = ErpVendorSettings()
    bank: BankVendorSettings = BankVendorSettings()
    procurement: ProcurementVendorSettings = ProcurementVendorSettings()
    payroll_provider: PayrollVendorSettings = PayrollVendorSettings()
    webhooks: WebhookSettings = WebhookSettings()
    gateway: ServiceAddress = ServiceAddress(port=8700)
    rules: RulesSettings = RulesSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    sweep: SweepSettings = SweepSettings()
    reconciliation: ReconciliationSettings = ReconciliationSettings()
    payments: PaymentsSettings = PaymentsSettings()

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource, dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = config_file()
        if toml_file is None:
            return (init_settings, env_settings)
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls, toml_file=toml_file))

    @property
    def database_url(self) -> str:
        return self.store_url or f"sqlite:///{(self.data_dir / 'finsync.db').resolve()}"


@lru_cache(maxsize=1)
def settings() -> Settings:
    return Settings()
