"""The browser page in headless Chromium, offline: `crypto401k viz` on a free loopback port.

Every request that does not go to the local server is blocked and recorded; the page must
render fully anyway and must not have tried to reach a CDN (nor the server on its behalf).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_S = 300  # importing Mesa, Solara and the model is slow on a busy 2-core machine
CHARTS = ("adoption", "flows", "aum", "price", "moat", "network")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]

INK = """(view) => {
  const c = document.querySelector(`[data-view="${view}"] canvas`);
  if (!c || !c.width || !c.height) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && (d[i] < 220 || d[i + 1] < 220 || d[i + 2] < 220)) n++;
  return n;
}"""
PICTURE = '(view) => document.querySelector(`[data-view="${view}"] canvas`).toDataURL()'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """`crypto401k viz --port N` running; yields (url, log path); stopped afterwards."""
    port = free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "viz", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"server did not start: {log.read_text()[-2000:]}")
            time.sleep(1)
        yield url, log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def open_page(browser, url: str, blocked: list[str]):
    """A fresh browser context (a new user) on the page, with the internet cut off."""
    context = browser.new_context(viewport={"width": 1600, "height": 1300})

    def only_loopback(route):
        if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(url)
    page.get_by_role("button", name="Step").wait_for()
    for view in CHARTS:
        page.locator(f'[data-view="{view}"] canvas').wait_for()
    page.wait_for_function(f"() => ({INK})('network') > 500 && ({INK})('adoption') > 500")
    return page


def quarter(page) -> str:
    return page.locator(".run-quarter").inner_text()


def step(page, times: int) -> None:
    start = int(quarter(page))
    for k in range(1, times + 1):
        page.get_by_role("button", name="Step").click()
        page.locator(".run-quarter", has_text=str(start + k)).wait_for()


def test_page_renders_offline_steps_and_keeps_sessions_apart(server, browser, tmp_path):
    url, log = server
    blocked: list[str] = []
    page = open_page(browser, url, blocked)
    for view in CHARTS:
        assert page.evaluate(INK, view) > 500, f"the {view} chart is blank"
    assert quarter(page) == "0"

    # a behavioural slider, applied by Reset
    thumb = page.locator(".v-input__slider", has_text="flow_multiplier").locator("[role=slider]")
    thumb.focus()
    for _ in range(11):  # 4.5 + 11 steps of 0.5
        thumb.press("ArrowRight")
    page.get_by_role("button", name="Reset").click()
    page.locator(".run-overrides", has_text="flow_multiplier = 10").wait_for()

    before = {view: page.evaluate(PICTURE, view) for view in ("adoption", "price", "network")}
    step(page, 3)
    page.get_by_text("Time: 3.0").wait_for()
    page.wait_for_timeout(500)  # ECharts draws after the option arrives
    for view, picture in before.items():
        assert page.evaluate(PICTURE, view) != picture, f"the {view} chart did not change"
    page.screenshot(path=tmp_path / "page.png", full_page=True)
    assert (tmp_path / "page.png").stat().st_size > 50_000

    # the House and the inspector
    page.get_by_role("tab", name="Page 1").click()
    page.locator('[data-view="house"] canvas').wait_for()
    page.locator("table.followed").wait_for()
    page.wait_for_function(f"() => ({INK})('house') > 500")

    # another user gets a model of their own
    other = open_page(browser, url, blocked)
    assert quarter(other) == "0"
    assert other.locator(".run-overrides").inner_text() == "none"
    step(other, 1)
    other.get_by_role("button", name="Reset").click()
    other.locator(".run-quarter", has_text="0").wait_for()
    assert quarter(page) == "3"
    assert "flow_multiplier = 10" in page.locator(".run-overrides").inner_text()

    assert blocked == [], f"the page asked the internet for {blocked}"
    assert "Could not load URL" not in log.read_text(), "the server went to a CDN"
