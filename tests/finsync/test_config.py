"""Every command finds the configuration ``finsync dev`` uses, and no test finds the developer's."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from finsync.cli import app
from finsync.config import PaymentPurpose, Settings
from tests.support.servers import free_port


def local_stack_config(folder: Path, address: str) -> None:
    (folder / ".finsync").mkdir()
    (folder / ".finsync" / "finsync.toml").write_text(f'[temporal]\naddress = "{address}"\n')


def test_the_configuration_is_found_in_the_documented_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FINSYNC_CONFIG")
    assert Settings().temporal.address == "127.0.0.1:7233"                   # none: the defaults

    local_stack_config(tmp_path, "127.0.0.1:1001")
    assert Settings().temporal.address == "127.0.0.1:1001"                   # ./.finsync/finsync.toml

    (tmp_path / "finsync.toml").write_text('[temporal]\naddress = "127.0.0.1:1002"\n')
    assert Settings().temporal.address == "127.0.0.1:1002"                   # ./finsync.toml before it

    named = tmp_path / "elsewhere.toml"
    named.write_text('[temporal]\naddress = "127.0.0.1:1003"\n')
    monkeypatch.setenv("FINSYNC_CONFIG", str(named))
    assert Settings().temporal.address == "127.0.0.1:1003"                   # FINSYNC_CONFIG before both


def test_a_command_dials_the_temporal_the_local_stack_config_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """After the README's advice to change the port in .finsync/finsync.toml, with no FINSYNC_CONFIG."""
    port = free_port()
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FINSYNC_CONFIG")
    local_stack_config(tmp_path, f"127.0.0.1:{port}")

    result = CliRunner().invoke(app, ["exceptions", "list"])

    assert result.exit_code == 1
    assert result.stderr.startswith(f"Cannot reach Temporal at 127.0.0.1:{port} ")


def test_a_configuration_file_that_is_not_there_is_one_line(tmp_path: Path):
    result = CliRunner().invoke(app, ["feed"], env={"FINSYNC_CONFIG": str(tmp_path / "typo.toml")})
    assert result.exit_code == 2
    assert result.stderr == f"FINSYNC_CONFIG names {tmp_path / 'typo.toml'}, which is not a file\n"


def test_tests_do_not_see_the_developers_configuration():
    assert [name for name in os.environ if name.startswith("FINSYNC_")] == ["FINSYNC_CONFIG"]
    assert Path(os.environ["FINSYNC_CONFIG"]).read_text() == ""
    assert Settings() == Settings.model_construct()   # every value a default


OLD_SHAPE = """
[bank.debtor_accounts.US01.USD]
name = "Acme Inc."
account_number = "000987654321"
bic = "CHASUS33XXX"
gl_account = "1010"
"""

BY_PURPOSE = """
[bank.debtor_accounts.supplier_payments.DE01.EUR]
name = "Acme GmbH"
iban = "DE89370400440532013000"
bic = "COBADEFFXXX"
gl_account = "1021"
"""


def test_debtor_accounts_from_before_purposes_are_the_reimbursement_accounts(tmp_path: Path,
                                                                             monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "finsync.toml").write_text(OLD_SHAPE)
    monkeypatch.setenv("FINSYNC_CONFIG", str(tmp_path / "finsync.toml"))
    bank = Settings().bank
    assert list(bank.debtor_accounts) == [PaymentPurpose.REIMBURSEMENTS]
    assert bank.accounts_for(PaymentPurpose.REIMBURSEMENTS)["US01"]["USD"].account_number == "000987654321"
    assert bank.accounts_for(PaymentPurpose.SUPPLIER_PAYMENTS) == {}   # never the demo company's accounts
    assert bank.entities == ["US01"]


def test_debtor_accounts_are_configured_by_purpose_and_an_unknown_purpose_is_refused(tmp_path: Path,
                                                                                    monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "finsync.toml").write_text(BY_PURPOSE)
    monkeypatch.setenv("FINSYNC_CONFIG", str(tmp_path / "finsync.toml"))
    bank = Settings().bank
    assert bank.accounts_for(PaymentPurpose.SUPPLIER_PAYMENTS)["DE01"]["EUR"].gl_account == "1021"
    assert bank.accounts_for(PaymentPurpose.REIMBURSEMENTS) == {}

    (tmp_path / "finsync.toml").write_text(BY_PURPOSE + BY_PURPOSE.replace("supplier_payments", "dividends"))
    with pytest.raises(ValidationError, match="reimbursements', 'supplier_payments' or 'payroll'"):
        Settings()


def test_by_default_every_purpose_pays_from_the_demo_companys_accounts():
    bank = Settings().bank
    assert list(bank.debtor_accounts) == list(PaymentPurpose)
    assert all(bank.accounts_for(purpose) == bank.accounts_for(PaymentPurpose.REIMBURSEMENTS) for purpose in PaymentPurpose)
    assert bank.entities == ["DE01", "US01"]


def test_payment_runs_are_at_hours_of_the_day_in_order_and_a_wrong_hour_is_named(tmp_path: Path,
                                                                                monkeypatch: pytest.MonkeyPatch):
    assert Settings().payments.run_hours == [10, 15]
    (tmp_path / "finsync.toml").write_text("[payments]\nrun_hours = [15, 9, 15]\n")
    monkeypatch.setenv("FINSYNC_CONFIG", str(tmp_path / "finsync.toml"))
    assert Settings().payments.run_hours == [9, 15]

    (tmp_path / "finsync.toml").write_text("[payments]\nrun_hours = [9, 24]\n")
    with pytest.raises(ValidationError, match=r"run hours are hours of the day, 0 to 23 \(UTC\), not 24"):
        Settings()


# --- the payload codec ([temporal.codec]) -------------------------------------------------------

KEY = "fWtPsYrER/I+7lPHaslvQK/3kqpXDaV+gjAjiyfHEvU="   # base64 of 32 bytes, for these tests only


def codec_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str) -> None:
    (tmp_path / "finsync.toml").write_text("[temporal.codec]\n" + table)
    monkeypatch.setenv("FINSYNC_CONFIG", str(tmp_path / "finsync.toml"))


def test_the_codec_is_off_and_holds_no_key_unless_configured():
    codec = Settings().temporal.codec
    assert (codec.enabled, codec.keys, codec.server_tokens, codec.active_key) == (False, {}, [], None)
    assert codec.server.port == 8707
    assert codec.ui_origins == ["http://127.0.0.1:8233", "http://localhost:8233"]


def test_keys_tokens_and_the_active_key_come_from_toml_or_the_environment(tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch):
    codec_config(tmp_path, monkeypatch, f'enabled = true\nactive_key_id = "new"\nserver_tokens = ["t1", "t2"]\n'
                                        f'[temporal.codec.keys]\nold = "{KEY}"\nnew = "{KEY}"\n')
    codec = Settings().temporal.codec
    assert (codec.active_key, sorted(codec.keys), [t.get_secret_value() for t in codec.server_tokens]) == (
        "new", ["new", "old"], ["t1", "t2"])

    monkeypatch.setenv("FINSYNC_TEMPORAL__CODEC__ACTIVE_KEY_ID", "old")
    monkeypatch.setenv("FINSYNC_TEMPORAL__CODEC__SERVER_TOKENS", '["t3"]')
    codec = Settings().temporal.codec
    assert (codec.active_key, [t.get_secret_value() for t in codec.server_tokens]) == ("old", ["t3"])


def test_the_codec_server_lets_in_the_web_ui_on_the_configured_ui_port(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch):
    (tmp_path / "finsync.toml").write_text("[temporal]\nui_port = 9233\n")
    monkeypatch.setenv("FINSYNC_CONFIG", str(tmp_path / "finsync.toml"))
    assert Settings().temporal.codec.ui_origins == ["http://127.0.0.1:9233", "http://localhost:9233"]
    (tmp_path / "finsync.toml").write_text('[temporal]\nui_port = 9233\n[temporal.codec]\n'
                                           'ui_origins = ["https://temporal.example.com"]\n')
    assert Settings().temporal.codec.ui_origins == ["https://temporal.example.com"]


@pytest.mark.parametrize(("table", "says"), [
    ("enabled = true\n", "the codec is enabled without keys"),
    (f'active_key_id = "k3"\n[temporal.codec.keys]\nk1 = "{KEY}"\n', "active_key_id 'k3' is not one of the keys (k1)"),
    (f'enabled = true\n[temporal.codec.keys]\nk1 = "{KEY}"\nk2 = "{KEY}"\n', "several keys and no active_key_id"),
    ('[temporal.codec.keys]\nshort = "c2l4dGVlbiBieXRlcyBrZXk="\n', "key short is not base64 of 32 bytes"),
    ('[temporal.codec.keys]\nprose = "not base64 at all!"\n', "key prose is not base64 of 32 bytes"),
])
def test_a_wrong_codec_configuration_is_one_line_naming_what_is_wrong_and_no_key(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, table: str, says: str):
    codec_config(tmp_path, monkeypatch, table)
    with pytest.raises(ValidationError, match=re.escape(says)):
        Settings()

    for command in ("codec-server", "worker", "gateway", "setup"):
        result = CliRunner().invoke(app, [command])
        assert result.exit_code == 2, (command, result.output)
        assert result.stderr.startswith(f"configuration {tmp_path / 'finsync.toml'}: temporal.codec")
        assert says in result.stderr
        assert len(result.stderr.splitlines()) == 1
        assert KEY not in result.stderr and "c2l4dGVlbiBieXRlcyBrZXk=" not in result.stderr
