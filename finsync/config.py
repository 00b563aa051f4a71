"""finsync configuration: one TOML file, overridable by environment variables.

Order of precedence: ``FINSYNC_*`` environment variables (nested with ``__``, e.g.
``FINSYNC_ERP__BASE_URL``), then one TOML file (see ``config_file``), then the defaults below,
which describe the local stack that ``finsync dev`` runs. Pointing a connector at a real tenant
is a change here only.
"""

from __future__ import annotations

import base64
import binascii
import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
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


class ServiceAddress(BaseModel):
    host: str = "127.0.0.1"
    port: int


# Payload encryption keys are AES-256 keys: 32 random bytes, written in base64.
CODEC_KEY_BYTES = 32


def decode_codec_key(key: SecretStr) -> bytes | None:
    """The key's bytes, or None if it is not base64 of exactly 32 bytes."""
    try:
        raw = base64.b64decode(key.get_secret_value(), validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == CODEC_KEY_BYTES else None


class CodecSettings(BaseModel):
    """Payload encryption (finsync/codec.py) and the codec server the Web UI decodes through
    (finsync/codec_server.py). Keys and tokens come from configuration only: there is no default."""

    enabled: bool = False              # True: every finsync client and worker encrypts what it writes
    # Key id -> base64 of 32 random bytes (``finsync codec-key new``). Each encrypted payload names
    # its key's id, so a key still decodes after another became active: keep it while any history
    # written under it is retained.
    keys: dict[str, SecretStr] = {}
    active_key_id: str | None = None   # the key new payloads are encrypted with; may be left out with one key
    # Bearer tokens the codec server accepts (several during a rotation).
    server_tokens: list[SecretStr] = []
    server: ServiceAddress = ServiceAddress(port=8707)
    # The Web UI origins allowed to call the codec server from a browser (CORS). Default: the local
    # Web UI on [temporal] ui_port, at 127.0.0.1 and localhost.
    ui_origins: list[str] = ["http://127.0.0.1:8233", "http://localhost:8233"]

    @field_validator("keys")
    @classmethod
    def _aes_256_keys(cls, keys: dict[str, SecretStr]) -> dict[str, SecretStr]:
        wrong = [key_id for key_id, key in keys.items() if decode_codec_key(key) is None]
        if wrong:
            raise ValueError(f"key {', '.join(wrong)} is not base64 of {CODEC_KEY_BYTES} bytes "
                             f"(`finsync codec-key new` makes one)")
        return keys

    @model_validator(mode="after")
    def _an_active_key_that_exists(self) -> CodecSettings:
        if self.active_key_id is not None and self.active_key_id not in self.keys:
            raise ValueError(f"active_key_id {self.active_key_id!r} is not one of the keys "
                             f"({', '.join(self.keys) or 'none configured'})")
        if self.enabled and not self.keys:
            raise ValueError("the codec is enabled without keys: add temporal.codec.keys "
                             "(`finsync codec-key new` makes one)")
        if self.enabled and self.active_key_id is None and len(self.keys) > 1:
            raise ValueError(f"several keys and no active_key_id: name the one that encrypts new payloads "
                             f"({', '.join(self.keys)})")
        return self

    @property
    def active_key(self) -> str | None:
        """The id of the key that encrypts new payloads: the one named, else the only one."""
        if self.active_key_id is not None:
            return self.active_key_id
        return next(iter(self.keys)) if len(self.keys) == 1 else None

    @property
    def endpoint(self) -> str:
        """Where the Web UI reaches the codec server."""
        return f"http://{self.server.host}:{self.server.port}"


class TemporalSettings(BaseModel):
    address: str = "127.0.0.1:7233"
    namespace: str = "default"
    tls: bool = False
    tls_client_cert: Path | None = None
    tls_client_key: Path | None = None
    api_key: SecretStr | None = None
    workflow_task_queue: str = "finsync-workflows"
    ui_port: int = 8233                # the dev server's Web UI (``finsync dev``), on the address's host
    codec: CodecSettings = CodecSettings()

    @model_validator(mode="after")
    def _codec_serves_the_local_web_ui(self) -> TemporalSettings:
        """Unless configured, the codec server lets in the Web UI on this ui_port."""
        if "ui_origins" not in self.codec.model_fields_set:
            self.codec = self.codec.model_copy(update={
                "ui_origins": [f"http://127.0.0.1:{self.ui_port}", f"http://localhost:{self.ui_port}"]})
        return self


class VendorSettings(BaseModel):
    kind: str                          # which connector: "concur", "netsuite", "s4hana", "iso20022-bank", "coupa", "workday"
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


class S4HanaVendorSettings(VendorSettings):
    """SAP S/4HANA Cloud (communication scenario SAP_COM_0002): journal entries posted over SOAP and
    read back over OData, as a communication user with HTTP Basic (the OAuth settings it inherits
    are not used)."""

    kind: str = "s4hana"
    base_url: str = "http://127.0.0.1:8706"
    task_queue: str = "finsync-erp-sap"
    max_requests_per_second: float | None = 50
    user: str = "FINSYNC_COMM_USER"
    password: SecretStr = SecretStr("sandbox-secret")
    logical_system: str = "FINSYNC"    # finsync as the sender of its entries (OriginalReferenceDocumentLogicalSystem)
    # Legal entity code -> SAP company code: SAP's company codes carry no finsync code to find them by.
    company_codes: dict[str, str] = Field(default_factory=lambda: {"US01": "1710", "DE01": "1010"})
    # Posting is asynchronous: how long a post waits for SAP's confirmation before it gives the attempt
    # back to Temporal, whose next attempt reads the entry back first.
    confirmation_wait_seconds: float = Field(10.0, ge=0)


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
    # The payroll sweep (workflows/payroll/sweep.py): a Temporal Schedule reads the pay runs changed
    # since the last sweep (less the overlap), so a lost "finalized", "reopened" or "cancelled"
    # event is caught.
    sweep_enabled: bool = True         # False: setup and dev pause the schedule (or create none)
    sweep_interval_seconds: int = Field(300, ge=10)
    sweep_overlap_seconds: int = Field(120, ge=0)


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
    # SAP S/4HANA's asynchronous journal entry confirmations (the sandbox signs them; see gateway/app.py).
    s4hana_secrets: list[SecretStr] = [SecretStr("whsec_Zmluc3luYy1sb2NhbC1zNGhhbmEtd2ViaG9vay1rZXk=")]
    # The payroll system's pay run events (finalized, reopened, cancelled).
    payroll_secrets: list[SecretStr] = [SecretStr("whsec_Zmluc3luYy1sb2NhbC1wYXlyb2xsLXdlYmhvb2sta2V5")]
    tolerance_seconds: int = 300
    max_body_bytes: int = 256 * 1024


class RulesSettings(BaseModel):
    expense_policy: Path = CONFIG_DIR / "expense-policy.toml"
    expense_accounts: Path = CONFIG_DIR / "expense-accounts.toml"
    procurement: Path = CONFIG_DIR / "procurement.toml"
    payroll: Path = CONFIG_DIR / "payroll.toml"


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
    s4hana: S4HanaVendorSettings = S4HanaVendorSettings()    # the SAP-shaped ERP (which entity posts where: the process's config)
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
