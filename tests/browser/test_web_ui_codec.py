"""Payroll data in the Temporal Web UI, as a user sees it in a real browser (Debian's headless
Chromium): ciphertext until the user signs in at finsync's codec server with a configured token
and points the UI at it; a wrong token decodes nothing.

The Temporal dev server with its Web UI and ``finsync codec-server`` run as ``finsync dev`` runs
them (finsync/devstack.py), on free ports, from a configuration written here."""

from __future__ import annotations

import base64
import os
import secrets
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import tomli_w
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service as ChromeDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.wait import WebDriverWait
from temporalio.client import WorkflowFailureError
from temporalio.worker import Worker

from finsync.codec import new_key
from finsync.codec_server import COOKIE
from finsync.config import Settings
from finsync.devstack import Service, services, start_service, stop_services, wait_ready
from finsync.temporal import connect
from tests.finsync.employee_probe import EmployeeProbe, pay, read_bank_account
from tests.support.servers import free_ports
from tests.workflows.payroll.world import german_iban

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(
    not (CHROMIUM.exists() and CHROMEDRIVER.exists()),
    reason="headless Chromium is not installed: apt-get install chromium chromium-driver (.ci/run installs them)")]
# Flags for a machine with no screen and a closed network (/work/.library/env/machines/python.md).
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--window-size=1400,1000")
DEADLINE = 30.0   # stops a test gone wrong; not a measure

# One employee's payroll data, each part a marker no page would show by chance.
EMPLOYEE_ID = "W77310"
NAME = "Zebulon Quartermaine-Okonkwo"
IBAN = german_iban("0077310042")
AMOUNT = "EUR 4,321.09"
MARKERS = (EMPLOYEE_ID, NAME, IBAN, AMOUNT)


@dataclass
class WebUi:
    ui: str                  # the Web UI's base URL
    codec: str               # the codec server's
    token: str               # one the codec server accepts
    workflow_id: str
    ciphertext: str          # the start of the workflow's input as the UI shows it undecoded

    @property
    def workflow_page(self) -> str:
        return f"{self.ui}/namespaces/default/workflows/{self.workflow_id}"


@dataclass
class Servers:
    settings: Settings
    token: str               # one the codec server accepts


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    """The Temporal dev server with its Web UI pointed at the codec server, and the codec server."""
    folder = tmp_path_factory.mktemp("web-ui")
    temporal_port, ui_port, codec_port = free_ports(3)
    token = secrets.token_urlsafe(24)
    config = {"data_dir": str(folder / "data"),
              "temporal": {"address": f"127.0.0.1:{temporal_port}", "ui_port": ui_port,
                           "codec": {"enabled": True, "keys": {"k1": new_key()}, "server_tokens": [token],
                                     "server": {"host": "127.0.0.1", "port": codec_port}}}}
    (folder / "finsync.toml").write_text(tomli_w.dumps(config))
    settings = Settings.model_validate(config)
    wanted = [s for s in services(settings, sys.executable) if s.name in ("temporal", "codec-server")]
    env = {**os.environ, "FINSYNC_CONFIG": str(folder / "finsync.toml"), "PYTHONPATH": str(ROOT)}
    try:
        for service in wanted:
            start_service(service, settings.data_dir / "logs", env, cwd=folder)
        # The Web UI answers a moment after the server's gRPC port.
        wait_ready(Service("temporal Web UI", ui_port, [], f"http://127.0.0.1:{ui_port}/api/v1/settings", ""))
        yield Servers(settings, token)
    finally:
        stop_services(list(reversed(wanted)))


@pytest.fixture(scope="module")
async def web_ui(servers: Servers) -> WebUi:
    temporal = servers.settings.temporal
    workflow_id, ciphertext = await run_probe(servers.settings)
    return WebUi(f"http://127.0.0.1:{temporal.ui_port}", temporal.codec.endpoint, servers.token, workflow_id,
                 ciphertext)


async def run_probe(settings: Settings) -> tuple[str, str]:
    """Run the employee probe to its failure through a client with the codec on; its workflow id
    and the start of its input's ciphertext, base64 as the Web UI shows a payload it cannot decode."""
    client = await connect(settings.temporal)
    employee = f"{EMPLOYEE_ID} {NAME}, {IBAN}, net pay {AMOUNT}"
    workflow_id = f"net-pay-{uuid.uuid4().hex[:8]}"
    async with Worker(client, task_queue="codec-probe", workflows=[EmployeeProbe], activities=[read_bank_account, pay]):
        handle = await client.start_workflow(EmployeeProbe.run, employee, id=workflow_id, task_queue="codec-probe")
        await handle.signal(EmployeeProbe.approve, f"approved for {NAME}")
        with pytest.raises(WorkflowFailureError):
            await handle.result()
    started = (await handle.fetch_history()).events[0].workflow_execution_started_event_attributes
    return workflow_id, base64.b64encode(started.input.payloads[0].data).decode()[:24]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"):
        options.add_argument(flag)
    # The driver named, so Selenium Manager never looks for (or downloads) one.
    driver = webdriver.Chrome(service=ChromeDriver(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def until(browser: WebDriver, condition: Callable[[WebDriver], object], what: str) -> None:
    try:
        WebDriverWait(browser, DEADLINE, poll_frequency=0.2, ignored_exceptions=(StaleElementReferenceException,)
                      ).until(condition)
    except TimeoutException:
        raise AssertionError(f"{what} within {DEADLINE:.0f} s; the page shows:\n{page_text(browser)[:3000]}") from None


def page_text(browser: WebDriver) -> str:
    return browser.find_element(By.TAG_NAME, "body").text


def codec_refused(browser: WebDriver) -> bool:
    return bool(browser.find_elements(By.CSS_SELECTOR, "[data-testid=data-encoder-status-error]"))


def shown_without_decoding(browser: WebDriver, web: WebUi) -> str:
    """Open the workflow's page and wait until the UI shows it after the codec server refused to
    decode: the workflow, its input as ciphertext. What the page then shows."""
    browser.get(web.workflow_page)
    until(browser, lambda b: codec_refused(b) and web.workflow_id in page_text(b) and web.ciphertext in page_text(b),
          "the workflow with its input undecoded and the codec server's refusal not shown")
    return page_text(browser)


def use_codec_server(browser: WebDriver, endpoint: str) -> None:
    """In the Web UI's Codec Server settings: "Use my browser setting", the endpoint, and "Include
    cross-origin credentials" (the dev server's UI has no switch for the last)."""
    def click(css: str) -> None:
        until(browser, lambda b: b.find_element(By.CSS_SELECTOR, css).is_displayed(), f"{css} not shown")
        browser.find_element(By.CSS_SELECTOR, css).click()

    click("[data-testid^=data-encoder-status]")
    click("label:has(#use-local-endpoint-radio)")
    until(browser, lambda b: b.find_element(By.ID, "data-encoder-endpoint-input").is_enabled(), "no endpoint field")
    field = browser.find_element(By.ID, "data-encoder-endpoint-input")
    field.clear()
    field.send_keys(endpoint)
    if not browser.find_element(By.ID, "pass-access-credentials").is_selected():
        click("[data-testid=data-encoder-include-credentials]")
    click("[data-testid=confirm-modal-button]")
    until(browser, lambda b: endpoint in (b.execute_script("return localStorage.getItem('endpoint')") or "")
          and b.execute_script("return localStorage.getItem('includeCredentials')") == "true",
          "the browser's codec setting not kept")


def sign_in(browser: WebDriver, codec: str, token: str) -> str:
    """Post ``token`` in the codec server's sign-in form; the heading of the answer."""
    browser.get(f"{codec}/login")
    form = browser.find_element(By.CSS_SELECTOR, "form[action='/login']")
    form.find_element(By.NAME, "token").send_keys(token)
    form.find_element(By.TAG_NAME, "button").click()
    until(browser, lambda b: "Sign in to" not in b.find_element(By.TAG_NAME, "h1").text, "no answer to the sign-in")
    return browser.find_element(By.TAG_NAME, "h1").text


def test_the_web_ui_shows_payroll_data_only_to_a_browser_signed_in_at_the_codec_server(
        web_ui: WebUi, browser: WebDriver) -> None:
    # The server's own setting: the UI asks the codec server, without credentials, and is refused.
    page = shown_without_decoding(browser, web_ui)
    assert "EmployeeProbe" in page
    assert not [marker for marker in MARKERS if marker in page]

    # Pointed at the codec server with credentials, but not signed in: still nothing decoded.
    use_codec_server(browser, web_ui.codec)
    page = shown_without_decoding(browser, web_ui)
    assert not [marker for marker in MARKERS if marker in page]

    # A wrong token is refused and opens nothing.
    assert sign_in(browser, web_ui.codec, "not-" + web_ui.token) == "Not signed in"
    assert COOKIE not in [cookie["name"] for cookie in browser.get_cookies()]
    page = shown_without_decoding(browser, web_ui)
    assert not [marker for marker in MARKERS if marker in page]

    # Signed in with the configured token: the same page shows the employee's data.
    assert sign_in(browser, web_ui.codec, web_ui.token) == "Signed in"
    browser.get(web_ui.workflow_page)
    until(browser, lambda b: all(marker in page_text(b) for marker in MARKERS), "the employee's data not decoded")
    assert browser.find_elements(By.CSS_SELECTOR, "[data-testid=data-encoder-status-success]")
