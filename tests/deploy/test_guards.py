"""No built-in development credential serves beyond loopback. The gateway, each connector and each
sandbox refuse one there, in one line naming the setting to provide; with it on loopback (the local
stack) or with credentials of their own anywhere, they start."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from connectors import registry
from connectors.netsuite.auth import DEV_KEY_DIR
from finsync import launch
from finsync.config import (
    BankVendorSettings,
    ErpVendorSettings,
    ExpenseVendorSettings,
    PayrollVendorSettings,
    ProcurementVendorSettings,
    S4HanaVendorSettings,
    ServiceAddress,
    Settings,
    VendorSettings,
    WebhookSettings,
)
from finsync.guards import BuiltInCredentialRefused, env_name
from sandboxes.kit.guard import Credential, SandboxCredentialRefused, refuse_built_in
from tests.deploy.helpers import finsync, own_webhook_secret, token_status
from tests.support.servers import free_port

BEYOND_LOOPBACK = ["0.0.0.0", "::", "10.20.30.40", "gateway.internal"]
LOOPBACK = ["127.0.0.1", "127.0.0.2", "localhost", "::1"]
SANDBOX_CREDENTIALS = {"concur": ("webhooks.expense_secrets", "expense.client_secret"),
                       "netsuite": ("erp.private_key_file", "erp.certificate_id"),
                       "bank": ("webhooks.bank_secrets", "bank.client_secret"),
                       "coupa": ("webhooks.procurement_secrets", "procurement.client_secret"),
                       "s4hana": ("webhooks.s4hana_secrets", "s4hana.password"),
                       "workday": ("webhooks.payroll_secrets", "payroll_provider.client_secret",
                                   "payroll_provider.refresh_token")}


def deployed(key_file: Path) -> Settings:
    """Settings of a deployment: its own credentials, vendors and gateway beyond loopback."""
    return Settings(
        gateway=ServiceAddress(host="0.0.0.0", port=8700),
        webhooks=WebhookSettings(expense_secrets=own_webhook_secret(b"expense"), bank_secrets=own_webhook_secret(b"bank"),
                                 procurement_secrets=own_webhook_secret(b"procurement"),
                                 s4hana_secrets=own_webhook_secret(b"s4hana"),
                                 payroll_secrets=own_webhook_secret(b"payroll")),
        expense=ExpenseVendorSettings(base_url="https://us.api.concursolutions.com", client_secret=SecretStr("concur-own")),
        erp=ErpVendorSettings(base_url="https://1234567.suitetalk.api.netsuite.com", private_key_file=key_file,
                              certificate_id="own-certificate"),
        bank=BankVendorSettings(base_url="https://api.bank.example", client_secret=SecretStr("bank-own")),
        procurement=ProcurementVendorSettings(base_url="https://finsync.coupahost.com",
                                              client_secret=SecretStr("coupa-own")),
        s4hana=S4HanaVendorSettings(base_url="https://my000000-api.s4hana.cloud.sap", password=SecretStr("s4-own")),
        payroll_provider=PayrollVendorSettings(base_url="https://wd2-impl-services1.workday.com",
                                               client_secret=SecretStr("workday-own"),
                                               refresh_token=SecretStr("workday-own-refresh")))


def assert_one_line_naming(refusal: Exception, *settings: str) -> None:
    message = str(refusal)
    assert "\n" not in message
    for setting in settings:
        assert f"{setting} ({env_name(setting)})" in message


# --- the gateway -----------------------------------------------------------------------------

@pytest.mark.parametrize("host", BEYOND_LOOPBACK)
def test_the_gateway_refuses_the_built_in_webhook_secrets_beyond_loopback(host):
    with pytest.raises(BuiltInCredentialRefused) as refused:
        launch.check_gateway(Settings(gateway=ServiceAddress(host=host, port=8700)))
    assert_one_line_naming(refused.value, "webhooks.expense_secrets", "webhooks.bank_secrets",
                           "webhooks.procurement_secrets", "webhooks.s4hana_secrets", "webhooks.payroll_secrets")


def test_a_rotation_still_accepting_a_built_in_secret_is_refused(own_key_file):
    built_in = WebhookSettings().bank_secrets[0].get_secret_value().removeprefix("whsec_")  # the prefix is optional
    settings = deployed(own_key_file)
    settings.webhooks.bank_secrets = [*own_webhook_secret(b"new bank"), SecretStr(built_in)]
    with pytest.raises(BuiltInCredentialRefused) as refused:
        launch.check_gateway(settings)
    assert_one_line_naming(refused.value, "webhooks.bank_secrets")
    assert "expense_secrets" not in str(refused.value)


@pytest.mark.parametrize(("check", "role"), [(launch.check_gateway, "expense"), (launch.check_worker, "expense"),
                                           (launch.check_worker, "bank"), (launch.check_gateway, "procurement"),
                                           (launch.check_worker, "procurement"), (launch.check_worker, "payroll_provider")],
                         ids=["gateway", "worker-expense", "worker-bank", "gateway-procurement", "worker-procurement",
                              "worker-payroll"])
def test_a_service_refuses_a_connector_with_the_built_in_client_secret_beyond_loopback(own_key_file, check, role):
    settings = deployed(own_key_file)
    getattr(settings, role).client_secret = VendorSettings.model_fields["client_secret"].default
    with pytest.raises(BuiltInCredentialRefused) as refused:
        check(settings)
    assert_one_line_naming(refused.value, f"{role}.client_secret")


@pytest.mark.parametrize("host", LOOPBACK)
def test_the_gateway_starts_on_loopback_with_the_built_in_secrets(host):
    launch.check_gateway(Settings(gateway=ServiceAddress(host=host, port=8700)))


def test_the_gateway_starts_beyond_loopback_with_secrets_of_its_own(own_key_file):
    launch.check_gateway(deployed(own_key_file))


# --- connectors ------------------------------------------------------------------------------

CLIENT_SECRET_VENDORS = [(ExpenseVendorSettings, "expense.client_secret"), (BankVendorSettings, "bank.client_secret"),
                         (ProcurementVendorSettings, "procurement.client_secret"),
                         (PayrollVendorSettings, "payroll_provider.client_secret")]


@pytest.mark.parametrize(("vendor", "setting"), CLIENT_SECRET_VENDORS)
def test_a_connector_refuses_the_built_in_client_secret_beyond_loopback(vendor, setting):
    with pytest.raises(BuiltInCredentialRefused) as refused:
        registry.build(vendor(base_url="https://vendor.example.com"))
    assert_one_line_naming(refused.value, setting)


@pytest.mark.parametrize(("vendor", "setting"), CLIENT_SECRET_VENDORS)
def test_a_connector_refuses_to_send_the_built_in_client_secret_to_a_token_url_beyond_loopback(vendor, setting):
    with pytest.raises(BuiltInCredentialRefused) as refused:
        registry.build(vendor(base_url="http://127.0.0.1:8701", token_url="https://login.example.com/oauth/token"))
    assert_one_line_naming(refused.value, setting)


CLIENT_SECRET_KINDS = [ExpenseVendorSettings, BankVendorSettings, ProcurementVendorSettings, PayrollVendorSettings]


@pytest.mark.parametrize("vendor", CLIENT_SECRET_KINDS)
async def test_a_connector_starts_on_loopback_with_the_built_in_client_secret(vendor):
    await registry.build(vendor(base_url="http://localhost:8701")).aclose()


@pytest.mark.parametrize("vendor", CLIENT_SECRET_KINDS)
async def test_a_connector_starts_beyond_loopback_with_a_client_secret_of_its_own(vendor):
    own = {"refresh_token": SecretStr("own refresh")} if vendor is PayrollVendorSettings else {}
    await registry.build(vendor(base_url="https://vendor.example.com", client_secret=SecretStr("own"), **own)).aclose()


def test_the_payroll_connector_refuses_the_built_in_refresh_token_beyond_loopback():
    with pytest.raises(BuiltInCredentialRefused) as refused:
        registry.build(PayrollVendorSettings(base_url="https://wd2-impl-services1.workday.com",
                                             client_secret=SecretStr("own")))
    assert_one_line_naming(refused.value, "payroll_provider.refresh_token")
    assert "client_secret" not in str(refused.value)


@pytest.mark.parametrize("configured", [{}, {"private_key_file": DEV_KEY_DIR / "DEV-ONLY-private-key.pem",
                                            "certificate_id": "any"}], ids=["unset", "configured by path"])
def test_netsuite_refuses_the_dev_only_key_beyond_loopback(configured):
    with pytest.raises(BuiltInCredentialRefused) as refused:
        registry.build(ErpVendorSettings(base_url="https://1234567.suitetalk.api.netsuite.com", **configured))
    assert_one_line_naming(refused.value, "erp.private_key_file", "erp.certificate_id")


def test_s4hana_refuses_the_built_in_password_beyond_loopback_and_the_worker_with_it(own_key_file):
    with pytest.raises(BuiltInCredentialRefused) as refused:
        registry.build(S4HanaVendorSettings(base_url="https://my000000-api.s4hana.cloud.sap"))
    assert_one_line_naming(refused.value, "s4hana.password")
    settings = deployed(own_key_file)
    settings.s4hana.password = S4HanaVendorSettings.model_fields["password"].default
    with pytest.raises(BuiltInCredentialRefused) as worker:
        launch.check_worker(settings)
    assert_one_line_naming(worker.value, "s4hana.password")


async def test_s4hana_starts_on_loopback_with_the_built_in_password_or_anywhere_with_its_own():
    await registry.build(S4HanaVendorSettings()).aclose()
    await registry.build(S4HanaVendorSettings(base_url="https://my000000-api.s4hana.cloud.sap",
                                              password=SecretStr("s4-own"))).aclose()


async def test_netsuite_starts_on_loopback_with_the_dev_only_key():
    await registry.build(ErpVendorSettings(base_url="http://127.0.0.1:8702")).aclose()


async def test_netsuite_starts_beyond_loopback_with_a_key_of_its_own(own_key_file):
    erp = ErpVendorSettings(base_url="https://1234567.suitetalk.api.netsuite.com", private_key_file=own_key_file,
                            certificate_id="own-certificate")
    await registry.build(erp).aclose()


def test_the_worker_starts_on_loopback_with_the_built_in_credentials_or_anywhere_with_its_own(own_key_file):
    launch.check_worker(Settings())
    launch.check_worker(deployed(own_key_file))


# --- sandboxes -------------------------------------------------------------------------------

@pytest.mark.parametrize("host", LOOPBACK + ["[::1]"])
def test_the_sandbox_guard_lets_built_in_credentials_serve_loopback(host):
    refuse_built_in("bank", host, [Credential("bank.client_secret", ["sandbox-secret"], ["sandbox-secret"])])


@pytest.mark.parametrize("name", SANDBOX_CREDENTIALS)
@pytest.mark.parametrize("host", BEYOND_LOOPBACK)
def test_a_sandbox_refuses_its_built_in_credentials_beyond_loopback(name, host, tmp_path):
    with pytest.raises(SandboxCredentialRefused) as refused:
        launch.sandbox_app(name, Settings(data_dir=tmp_path), host)
    assert_one_line_naming(refused.value, *SANDBOX_CREDENTIALS[name])
    assert not (tmp_path / "sandboxes").exists()   # refused before it kept any state


@pytest.mark.parametrize("name", SANDBOX_CREDENTIALS)
async def test_a_sandbox_starts_on_loopback_with_its_built_in_credentials(name, tmp_path):
    app = launch.sandbox_app(name, Settings(data_dir=tmp_path), "127.0.0.1")
    assert await token_status(name, app, Settings()) == 200   # the local stack's connectors get in


@pytest.mark.parametrize("name", SANDBOX_CREDENTIALS)
async def test_a_sandbox_starts_beyond_loopback_with_finsyncs_own_credentials(name, tmp_path, own_key_file):
    settings = deployed(own_key_file)
    settings.data_dir = tmp_path
    app = launch.sandbox_app(name, settings, "0.0.0.0")
    assert await token_status(name, app, settings) == 200
    assert await token_status(name, app, Settings()) in (400, 401)   # the published credentials do not


# --- the commands ----------------------------------------------------------------------------

@pytest.mark.parametrize(("command", "env", "settings"), [
    (["gateway"], {"FINSYNC_GATEWAY__HOST": "0.0.0.0", "FINSYNC_GATEWAY__PORT": "8700"},
     ["webhooks.expense_secrets", "webhooks.bank_secrets"]),
    (["worker"], {"FINSYNC_ERP__BASE_URL": "https://1234567.suitetalk.api.netsuite.com"},
     ["erp.private_key_file", "erp.certificate_id"]),
    (["sandbox", "bank", "--host", "0.0.0.0"], {}, ["webhooks.bank_secrets", "bank.client_secret"]),
], ids=["gateway", "worker", "sandbox"])
def test_the_command_refuses_in_one_line_naming_the_settings(tmp_path, command, env, settings):
    if command[0] == "sandbox":
        command = [*command, "--port", str(free_port())]
    result = finsync(tmp_path, *command, **env)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    for setting in settings:
        assert env_name(setting) in result.stderr


@pytest.mark.parametrize("command", ["gateway", "worker"])
def test_the_command_starts_on_loopback_with_the_built_in_credentials(tmp_path, command):
    # Past its guard, the service's next step is to reach Temporal; none listens on this port.
    result = finsync(tmp_path, command, FINSYNC_TEMPORAL__ADDRESS=f"127.0.0.1:{free_port()}")
    assert "Cannot reach Temporal" in result.stderr
    assert "refuses to start" not in result.stderr


def test_the_variable_a_refusal_names_is_the_one_settings_read(monkeypatch):
    own = own_webhook_secret(b"bank")[0].get_secret_value()
    monkeypatch.setenv(env_name("webhooks.bank_secrets"), f'["{own}"]')
    monkeypatch.setenv(env_name("erp.certificate_id"), "own-certificate")
    settings = Settings()
    assert [s.get_secret_value() for s in settings.webhooks.bank_secrets] == [own]
    assert settings.erp.certificate_id == "own-certificate"
