"""The browser page in headless Chromium, offline: `crypto401k viz` on a free loopback port.

One server serves most tests (module fixture); each test opens its own pages (each a new
session with its own model, closed at the end of the test) in browser contexts that block and
record every request that does not go to the local server. Tests that stop servers, fill them
or measure their memory start their own. Tests read the charts through the ECharts instance
each chart element carries (`__chart`), click and hover where the charts draw their items, and
save screenshots to a temporary folder named in the test output. The server's start-up time,
the first full render, a Step while another page plays and the server's memory under load are
measured and reported (never asserted against speed targets: those live in
benchmarks/bench_viz.py).

Sections follow the numbered points of issue 14 (the first page) and issue 24 (round two).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
import tomllib
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd
import psutil
import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parent.parent
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
SERVER_START_S = 300  # a busy 2-core machine can be slow; the figure is reported, not asserted
MARKET_VIEWS = ("adoption", "flows", "aum", "price")
TABS = ("Markets", "Districts & Congress", "Participants", "Employers")
HORIZON = 40
BEACON_S = float(os.environ.get("VIZ_TEST_BEACON_S", "0.5"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not CHROMIUM.exists() and os.environ.get("CI") != "true",
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
    ),
]

# --- what the tests read in the page
DRAWN = """(views) => views.every(v => {
  const e = document.querySelector(`[data-view="${v}"]`);
  const c = e && e.querySelector('canvas');
  return e && e.__chart && c && c.width > 0;
})"""
# pixels of a chart's canvas near a colour (rgb, tolerance), or any non-background "ink"
COLOUR = """([view, rgb, tol]) => {
  const c = document.querySelector(`[data-view="${view}"] canvas`);
  if (!c || !c.width) return 0;
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    if (d[i + 3] === 0) continue;
    if (rgb === null) { if (d[i] < 220 || d[i + 1] < 220 || d[i + 2] < 220) n++; continue; }
    if (Math.abs(d[i] - rgb[0]) <= tol && Math.abs(d[i + 1] - rgb[1]) <= tol && Math.abs(d[i + 2] - rgb[2]) <= tol) n++;
  }
  return n;
}"""
# page coordinates of a data point of a series
PIXEL = """([view, series, value]) => {
  const e = document.querySelector(`[data-view="${view}"]`);
  const p = e.__chart.convertToPixel({seriesIndex: series}, value);
  const r = e.getBoundingClientRect();
  return [r.left + p[0], r.top + p[1]];
}"""
SERIES = """([view, key]) => {
  const o = document.querySelector(`[data-view="${view}"]`).__chart.getOption();
  return o.series.map(s => ({name: s.name, type: s.type, id: s.id,
    data: (key ? s.data : []).map(d => (d && typeof d === 'object' && !Array.isArray(d)) ? {value: d.value, id: d.id, tip: d.tip, x: d.x, y: d.y} : d),
    n: (s.data || []).length}));
}"""
OPTION_PART = """([view, path]) => {
  let o = document.querySelector(`[data-view="${view}"]`).__chart.getOption();
  for (const k of path) o = o[k];
  return JSON.parse(JSON.stringify(o, (k, v) => typeof v === 'function' ? 'function' : v));
}"""
# the chart's tooltip: its text, whether it lies inside the chart, and whether any ancestor
# that clips its content (overflow other than visible) cuts it
TOOLTIP = """(view) => {
  const e = document.querySelector(`[data-view="${view}"]`);
  const t = [...e.querySelectorAll('div')].find(d => d.style.zIndex === '9999999');
  if (!t || t.style.display === 'none' || t.style.opacity === '0') return null;
  const a = t.getBoundingClientRect(), b = e.getBoundingClientRect();
  const inside = (r) => a.left >= r.left - 1 && a.right <= r.right + 1 && a.top >= r.top - 1 && a.bottom <= r.bottom + 1;
  let cut = null;
  for (let p = t.parentElement; p && p !== document.body; p = p.parentElement) {
    const s = getComputedStyle(p);
    if ((s.overflowX !== 'visible' || s.overflowY !== 'visible') && !inside(p.getBoundingClientRect())) { cut = p.className || p.tagName; break; }
  }
  return {text: t.innerText, inChart: inside(b), cut};
}"""
# a scatter point far enough from every other point to be clicked alone: [x, y, id] on the page
ISOLATED = """(view) => {
  const e = document.querySelector(`[data-view="${view}"]`), ch = e.__chart, r = e.getBoundingClientRect();
  const pts = [];
  ch.getOption().series.forEach((s, i) => (s.data || []).forEach(d => {
    const v = d.value !== undefined ? d.value : [d.x, d.y];  // a scatter point or a graph node
    const p = ch.convertToPixel({seriesIndex: i}, v); pts.push([p[0], p[1], d.id]); }));
  for (const a of pts) {
    if (pts.every(b => b === a || Math.hypot(a[0] - b[0], a[1] - b[1]) > 8)) return [r.left + a[0], r.top + a[1], a[2]];
  }
  return null;
}"""
PICTURE = '(view) => document.querySelector(`[data-view="${view}"] canvas`).toDataURL()'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_free(port: int) -> bool:
    """Whether a new server could listen on `port` now."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def start_server(log: Path, env: dict[str, str] | None = None, port: int | None = None):
    """`crypto401k viz --port N` started and answering: (url, process, seconds to first answer)."""
    port = port or free_port()
    started = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "viz", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
        )
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + SERVER_START_S
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_server(proc)
            pytest.fail(f"server did not start: {log.read_text()[-2000:]}")
        time.sleep(0.05)
    return url, proc, time.monotonic() - started


def stop_server(proc) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def solara_process(proc) -> psutil.Process:
    """The Solara server started by `crypto401k viz` (its child)."""
    return next(c for c in psutil.Process(proc.pid).children() if "solara" in " ".join(c.cmdline()))


def running(pids) -> list[int]:
    """Those of `pids` still running (a zombie waiting to be reaped is not)."""
    out = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                out.append(pid)
        except psutil.NoSuchProcess:
            pass
    return out


def workers_of(proc) -> list[psutil.Process]:
    """The server's worker processes (multiprocessing's spawned children)."""
    return [
        c
        for c in psutil.Process(proc.pid).children(recursive=True)
        if "multiprocessing" in " ".join(c.cmdline()) and "resource_tracker" not in " ".join(c.cmdline())
    ]


def idle(processes, seconds: float = 1.0) -> bool:
    """Whether every process used under a tenth of a core over `seconds`."""
    for p in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            p.cpu_percent(None)
    time.sleep(seconds)
    busy = []
    for p in processes:
        try:
            busy.append(p.cpu_percent(None))
        except psutil.NoSuchProcess:
            continue
    return all(b < 10.0 for b in busy)


def wait_until(check, seconds: float, step: float = 0.2) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(step)
    return check()


# --- fixtures: one server, one browser, one screenshot folder, the measured figures
def report(request, lines: list[str]) -> None:
    """Print past pytest's output capture, so the figures show in every run."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print("\n" + "\n".join(lines), flush=True)


@pytest.fixture(scope="module")
def figures(request, tmp_path_factory):
    """Timings measured by the tests, reported at the end of the module and saved as JSON."""
    out: dict[str, object] = {}
    yield out
    path = tmp_path_factory.getbasetemp() / "viz_timings.json"
    path.write_text(json.dumps(out, indent=2))
    report(request, [f"browser page figures (also in {path}):"] + [f"  {k}: {v}" for k, v in out.items()])


@pytest.fixture(scope="module")
def shots(request, tmp_path_factory):
    """The folder the screenshots go to (named in the test output)."""
    folder = tmp_path_factory.mktemp("viz_screenshots")
    report(request, [f"browser page screenshots go to {folder}"])
    yield folder


@pytest.fixture(scope="module")
def server(tmp_path_factory, figures):
    """`crypto401k viz --port N` running; yields (url, log path, process); stopped afterwards."""
    log = tmp_path_factory.mktemp("server") / "server.log"
    url, proc, seconds = start_server(log)
    figures["server ready (s, launch to first response)"] = round(seconds, 2)
    try:
        yield url, log, proc
    finally:
        stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def blocked():
    """Every request a page made to anything but the local server (must stay empty)."""
    out: list[str] = []
    yield out
    assert out == [], f"the page asked the internet for {out}"


OPENED: list = []  # the browser contexts a test opened (closed after it: each holds a page run)


@pytest.fixture(autouse=True)
def close_pages():
    yield
    while OPENED:
        context = OPENED.pop()
        with contextlib.suppress(Exception):  # closed by the test already
            context.close()


def open_page(
    browser,
    url: str,
    blocked: list[str],
    size=(1600, 1000),
    clipboard: bool = False,
    query: str = "",
    downloads: bool = False,
    wait: bool = True,
):
    """A fresh browser context (a new user) on the page (at `query`), with the internet cut off;
    the page and the seconds from navigation to every chart of the first tab drawn."""
    context = browser.new_context(viewport={"width": size[0], "height": size[1]}, accept_downloads=True)
    OPENED.append(context)
    if clipboard:
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=url.rstrip("/"))

    def only_loopback(route):
        if route.request.url.startswith(("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    context.route("**/*", only_loopback)
    page = context.new_page()
    page.set_default_timeout(60_000)
    started = time.monotonic()
    page.goto(url + (f"?{query}" if query else ""))
    if wait:
        page.wait_for_function(DRAWN, arg=list(MARKET_VIEWS), polling=50)
        page.locator(".c401k-monitor").first.wait_for()
    return page, time.monotonic() - started


def leave(page) -> None:
    """Close the page as a user closes a tab: the page is hidden first, so it sends Solara's
    close beacon (closing the browser context at once can drop it, and the server would then
    keep the page until it culls it, as for a lost connection)."""
    page.goto("about:blank")
    page.wait_for_timeout(BEACON_S * 1000)  # the beacon leaves the browser meanwhile
    page.context.close()


def quarter(page) -> int:
    return int(page.locator(".run-quarter").inner_text())


def step(page, times: int = 1) -> None:
    for _ in range(times):
        q = quarter(page)
        page.get_by_role("button", name="Step").click()
        page.locator(".run-quarter", has_text=re.compile(f"^{q + 1}$")).wait_for()


def run_to_end(page) -> None:
    page.get_by_role("button", name="Run to end").click()
    page.locator(".run-quarter", has_text=re.compile(f"^{HORIZON}$")).wait_for()
    page.get_by_role("button", name="Play").wait_for()


def open_tab(page, name: str, views: tuple[str, ...]) -> None:
    page.get_by_role("tab", name=name).click()
    page.wait_for_function(DRAWN, arg=list(views), polling=50)


def shot(page, shots: Path, name: str, view: str | None = None) -> None:
    """A screenshot of the page (or of one view) into the screenshot folder."""
    target = page.locator(f'[data-view="{view}"]') if view else page
    if view:
        target.scroll_into_view_if_needed()
    target.screenshot(path=shots / f"{name}.png")


def settle(page) -> None:
    page.wait_for_timeout(400)  # the option reaches the browser after the quarter's text


def in_view(page, view: str) -> None:
    """Scroll a view into the window: a mouse event outside the viewport reaches nothing (the
    monitors may wrap to a second row and push the lower charts down)."""
    page.locator(f'[data-view="{view}"]').scroll_into_view_if_needed()


def click_item(page, view: str, series: int, value) -> None:
    in_view(page, view)
    x, y = page.evaluate(PIXEL, [view, series, value])
    page.mouse.click(x, y)


def hover_item(page, view: str, series: int, value) -> None:
    in_view(page, view)
    x, y = page.evaluate(PIXEL, [view, series, value])
    page.mouse.move(x, y)


def inspector_title(page) -> str:
    return page.locator(".c401k-inspect-title").inner_text()


def set_reset(page) -> None:
    """Reset, and wait for the new run to show."""
    run = page.locator(".run-quarter").get_attribute("data-run")
    page.locator(".c401k-reset").click()
    page.locator(f".run-quarter:not([data-run='{run}'])", has_text=re.compile("^0$")).wait_for()


def select_option(page, label: str, option: str) -> None:
    page.get_by_label(label, exact=True).click(force=True)
    page.locator(".v-menu__content.menuable__content__active .v-list-item", has_text=option).first.click()


# --- 1. and 8.: the horizon; start-up, render and step figures; the log; sessions apart
def test_server_start_render_and_steps_while_another_page_plays(server, browser, blocked, figures, shots):
    url, log, proc = server
    page, first = open_page(browser, url, blocked)
    figures["first full render, first page after start (s)"] = round(first, 2)
    other, second = open_page(browser, url, blocked, size=(1280, 800))
    figures["first full render, a new page (s, 1280x800)"] = round(second, 2)
    _third, third = open_page(browser, url, blocked)
    figures["first full render, a new page (s, 1600x1000)"] = round(third, 2)
    _third.context.close()
    shot(page, shots, "01_first_render_1600")
    shot(other, shots, "01_first_render_1280")

    def step_times(p, n):
        out = []
        for _ in range(n):
            before = p.evaluate(PICTURE, "adoption")
            t = time.perf_counter()
            step(p)
            p.wait_for_function(f"(old) => ({PICTURE})('adoption') !== old", arg=before, polling=20)
            out.append(time.perf_counter() - t)
        return out

    alone = step_times(other, 4)
    page.get_by_role("button", name="Play").click()
    page.get_by_role("button", name="Pause").wait_for()
    busy = step_times(other, 4)
    figures["step, click to redraw, alone (s, median)"] = round(statistics.median(alone), 2)
    figures["step while another page plays (s, median)"] = round(statistics.median(busy), 2)

    # 1. Play stops at the scenario's horizon; Step and Run to end go no further
    page.get_by_role("button", name="Play").wait_for(timeout=180_000)
    assert quarter(page) == HORIZON
    assert page.get_by_role("button", name="Step").is_disabled()
    assert page.get_by_role("button", name="Run to end").is_disabled()
    assert page.get_by_role("button", name="Play").is_disabled()
    assert "horizon" in page.locator(".run-status").inner_text()
    page.wait_for_timeout(1500)
    assert quarter(page) == HORIZON
    shot(page, shots, "01_played_to_horizon")

    # sessions stay apart: the other page is where it was, and its Reset leaves this one alone
    assert quarter(other) == 8
    set_reset(other)
    assert quarter(page) == HORIZON

    # 8. no samesite-cookie warnings in the server log after four page loads
    text = log.read_text()
    assert "samesite" not in text.lower(), text[-2000:]
    assert "Could not load URL" not in text, "the server went to a CDN"


# --- 2. the inspector
def test_inspector_follows_steps_keeps_its_agent_and_refuses_bad_input(server, browser, blocked, shots):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked)
    title = inspector_title(page)
    assert title.startswith("Participant ")
    table = page.locator("table.c401k-inspect")
    assert "plan offers crypto" in table.inner_text()
    assert re.search(r"plan offers crypto\s+yes", table.inner_text())  # not someone without a choice
    step(page, 3)
    page.locator("table.c401k-inspect[data-quarter='3']").wait_for()  # updates while stepping
    # leaving the view and coming back keeps the agent and its history
    open_tab(page, "Participants", ("participants",))
    open_tab(page, "Markets", MARKET_VIEWS)
    assert inspector_title(page) == title
    assert "followed since 2025Q3" in page.locator(".c401k-inspector").inner_text()
    history = page.evaluate(SERIES, ["inspected", True])
    assert len(history[0]["data"]) == 4
    # bad input is refused with the allowed range; the agent stays
    box = page.get_by_label("index", exact=True)
    for bad in ("abc", "100000", "-3"):
        box.fill(bad)
        box.press("Enter")
        error = page.locator(".c401k-inspect-error", has_text=bad)  # this input's answer
        error.wait_for()
        assert "allowed: 0 to 99999" in error.inner_text()
        assert inspector_title(page) == title
    box.fill("12")
    box.press("Enter")
    page.locator(".c401k-inspect-title", has_text="Participant 12 ").wait_for()
    assert page.locator(".c401k-inspect-error").count() == 0
    # clicking agents inspects them: a district, a House member, a participant, an employer
    open_tab(page, "Districts & Congress", ("districts", "house", "moat"))
    settle(page)
    cells = page.evaluate(SERIES, ["districts", True])[0]["data"]
    x, y = cells[40]["value"][:2]
    in_view(page, "districts")
    (x0, y0), (x1, _) = (page.evaluate(PIXEL, ["districts", 0, [x + k, y]]) for k in (0, 1))
    page.mouse.click(x0 + 0.4 * (x1 - x0), y0)  # the cell beside its member's dot
    page.locator(".c401k-inspect-title", has_text="District").wait_for()
    assert page.evaluate(SERIES, ["inspected", True])[0]["n"] == 4  # a district's history from quarter 0
    seats = page.evaluate(SERIES, ["house", True])[0]["data"]
    click_item(page, "house", 0, seats[100]["value"][:2])
    page.locator(".c401k-inspect-title", has_text="Member for").wait_for()
    open_tab(page, "Participants", ("participants", "allocation", "balance"))
    settle(page)
    in_view(page, "participants")
    x, y, row = page.evaluate(ISOLATED, "participants")
    page.mouse.click(x, y)
    page.locator(".c401k-inspect-title", has_text=f"Participant {row} ").wait_for()
    open_tab(page, "Employers", ("network",))
    settle(page)
    in_view(page, "network")
    x, y, employer = page.evaluate(ISOLATED, "network")
    page.mouse.click(x, y)
    page.locator(".c401k-inspect-title", has_text=re.compile(f"^Employer {employer}$")).wait_for()
    shot(page, shots, "02_inspector_employer")


# --- 3. the employer network
def test_network_links_are_drawn_and_zoom_survives_a_step(server, browser, blocked, shots):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked)
    open_tab(page, "Employers", ("network",))
    settle(page)
    links = page.evaluate(
        """() => {
      const e = document.querySelector('[data-view="network"]');
      const ch = e.__chart, o = ch.getOption(), s = o.series[0];
      const at = {}; s.data.forEach(d => at[d.id] = ch.convertToPixel({seriesIndex: 0}, [d.x, d.y]));
      const c = e.querySelector('canvas'), g = c.getContext('2d'), k = c.width / e.clientWidth;
      let drawn = 0, n = 0;
      for (const l of s.links) {
        const a = at[l.source], b = at[l.target];
        if (Math.hypot(a[0] - b[0], a[1] - b[1]) < 12) continue;  // hidden under the dots
        n++;
        const x = (a[0] + b[0]) / 2 * k, y = (a[1] + b[1]) / 2 * k;
        const d = g.getImageData(Math.round(x) - 1, Math.round(y) - 1, 3, 3).data;
        let ink = false;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] < 235) ink = true;
        if (ink) drawn++;
      }
      return {n, drawn, total: s.links.length};
    }"""
    )
    assert links["total"] > 1000
    assert links["drawn"] >= 0.9 * links["n"], links  # (today: most links were invisible)
    # zoom in with the wheel, step: the view stays where the user put it
    box = page.locator('[data-view="network"]').bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    for _ in range(3):
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(100)
    settle(page)
    zoom = page.evaluate(OPTION_PART, ["network", ["series", 0, "zoom"]])
    node = page.evaluate(SERIES, ["network", True])[0]["data"][3]
    where = page.evaluate(PIXEL, ["network", 0, [node["x"], node["y"]]])
    assert zoom > 1.2
    step(page, 2)
    settle(page)
    assert page.evaluate(OPTION_PART, ["network", ["series", 0, "zoom"]]) == pytest.approx(zoom)
    assert page.evaluate(PIXEL, ["network", 0, [node["x"], node["y"]]]) == pytest.approx(where, abs=0.5)
    assert "2026Q1" in page.locator(".c401k-monitors").locator("..").inner_text()
    shot(page, shots, "03_network_zoomed", "network")


# --- 4. settings: labels, units, values, effective values, scenario, per-parameter reset
def test_settings_read_as_meaning_unit_and_the_value_the_run_uses(server, browser, blocked, shots):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked, clipboard=True)
    from model.parameters import PARAMETERS

    behavioural = [p for p in PARAMETERS.values() if p.behavioural and p.type is not bool]
    for header in page.locator(".v-expansion-panel-header").all():
        header.click()
    labels = page.locator("[data-param]")
    labels.nth(len(behavioural) - 1).wait_for()
    assert labels.count() == len(behavioural)
    settings_text = page.locator(".c401k-param").all_inner_texts()
    for p, text in zip(behavioural, settings_text, strict=True):
        assert p.name not in text.split("=")[0], f"{p.name}: raw name as label"
        assert p.unit in text and p.doc[:30] in text, p.name
        assert "range" in text, p.name
    # values are readable without dragging
    value = page.locator("[data-param='flow_multiplier'] .c401k-param-value")
    assert value.inner_text() == "4.5"
    shot(page, shots, "04_settings_open")

    # a scenario changes nothing until Reset, and says so
    select_option(page, "scenario", "age_cap")
    hint = page.locator(".c401k-pending")
    hint.wait_for()
    assert "scenario age_cap" in hint.inner_text() and "Reset" in hint.inner_text()
    glide = page.locator(".c401k-param", has=page.locator("[data-param='glide_path_years']"))
    glide.locator(".c401k-param-value", has_text=re.compile("^15$")).wait_for()  # with the hint's render
    assert "this run uses 0" in glide.inner_text()
    set_reset(page)
    expect(page.locator(".run-overrides").locator("..")).to_contain_text("age_cap")
    expect(page.locator(".run-overrides")).to_have_text("none")
    expect(page.locator(".c401k-pending")).to_have_count(0)
    expect(glide.locator(".c401k-param-value")).to_have_text("15")
    expect(glide).not_to_contain_text("this run uses")

    # the declared default can be set under a scenario that changes it
    thumb = glide.locator("[role=slider]")
    shown = glide.locator(".c401k-param-value")
    thumb.press("Home")  # the slider's minimum, 0: the declared default
    glide.locator(".c401k-param-value", has_text="0").wait_for()
    assert shown.inner_text() == "0"
    assert "glide_path_years = 0" in page.locator(".c401k-pending").inner_text()
    set_reset(page)
    expect(page.locator(".run-overrides")).to_have_text("glide_path_years = 0")
    expect(page.locator(".c401k-command")).to_contain_text("--set glide_path_years=0")
    # and the per-parameter reset goes back to the scenario's value
    glide.locator(".c401k-param-reset").click()
    glide.locator(".c401k-param-value", has_text="15").wait_for()
    assert "glide_path_years back to the scenario's value" in page.locator(".c401k-pending").inner_text()
    shot(page, shots, "04_settings_pending")


# --- 5. the House
def test_house_hover_shows_the_stance_and_colours_follow_the_quarters(server, browser, blocked, shots):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked)
    open_tab(page, "Districts & Congress", ("house",))
    settle(page)
    seats0 = page.evaluate(SERIES, ["house", True])[0]["data"]
    scale0 = page.evaluate(OPTION_PART, ["house", ["visualMap", 0]])
    picture0 = page.evaluate(PICTURE, "house")
    seat = seats0[200]
    hover_item(page, "house", 0, seat["value"][:2])
    page.wait_for_timeout(300)
    tip = page.evaluate(TOOLTIP, "house")
    assert tip is not None
    assert f"stance {seat['value'][2]:+.2f}" in tip["text"], tip["text"]
    shot(page, shots, "05_house_hover", "house")
    page.mouse.move(0, 0)
    run_to_end(page)
    settle(page)
    seats40 = page.evaluate(SERIES, ["house", True])[0]["data"]
    scale40 = page.evaluate(OPTION_PART, ["house", ["visualMap", 0]])
    assert [s["value"][:2] for s in seats40] == [s["value"][:2] for s in seats0]  # places fixed
    assert (scale40["min"], scale40["max"]) == (scale0["min"], scale0["max"])  # the scale too
    moved = [abs(a["value"][2] - b["value"][2]) for a, b in zip(seats0, seats40, strict=True)]
    assert max(moved) > 0.5  # stances moved, so colours did
    assert page.evaluate(PICTURE, "house") != picture0
    pro = sum(s["value"][2] > 0 for s in seats40)
    title = page.evaluate(OPTION_PART, ["house", ["title", 0, "text"]])
    assert f"{pro} of 435" in title
    shot(page, shots, "05_house_q40", "house")


# --- 6. the charts
def test_charts_axes_tooltips_legends_points_theme_layout_and_tabs(server, browser, blocked, shots):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked)
    tabs = [t.strip().lower() for t in page.get_by_role("tab").all_inner_texts()]
    assert tabs == [t.lower() for t in TABS]  # named, not "Page 0/1"
    run_to_end(page)
    settle(page)
    # the flows chart's axes put zero at the same height
    zero = page.evaluate(
        """() => { const ch = document.querySelector('[data-view="flows"]').__chart;
          return [ch.convertToPixel({yAxisIndex: 0}, 0), ch.convertToPixel({yAxisIndex: 1}, 0)]; }"""
    )
    axes = page.evaluate(OPTION_PART, ["flows", ["yAxis"]])
    assert zero[0] == pytest.approx(zero[1], abs=1.0), (zero, axes)
    # tooltips near the edges stay whole, inside their chart
    for view, (fx, fy) in (("adoption", (0.9, 0.5)), ("flows", (0.78, 0.6)), ("price", (0.2, 0.7))):
        box = page.locator(f'[data-view="{view}"]').bounding_box()
        page.mouse.move(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
        page.wait_for_timeout(300)
        tip = page.evaluate(TOOLTIP, view)
        assert tip is not None and tip["inChart"] and tip["cut"] is None, (view, tip)
        page.mouse.move(0, 0)
    # the moat chart: a whole legend clear of the plot, the axis named on its side, no rule
    # labels in the shading, and a key for shading, election lines and diamonds
    open_tab(page, "Districts & Congress", ("moat",))
    settle(page)
    legend = page.evaluate(
        """() => { const ch = document.querySelector('[data-view="moat"]').__chart;
          const model = ch.getModel(), view = ch.getViewOfComponentModel(model.getComponent('legend'));
          const r = view.group.getBoundingRect(), g = model.getComponent('grid').coordinateSystem.getRect();
          const el = document.querySelector('[data-view="moat"]');
          return {type: model.getComponent('legend').get('type'), top: r.y + view.group.y,
                  left: r.x + view.group.x, width: r.width, plotBottom: g.y + g.height, w: el.clientWidth}; }"""
    )
    assert legend["type"] == "plain"
    assert legend["top"] > legend["plotBottom"] + 12, legend  # below the plot and its axis labels
    assert legend["left"] >= 0 and legend["left"] + legend["width"] <= legend["w"], legend
    axis = page.evaluate(OPTION_PART, ["moat", ["yAxis", 0]])
    assert axis["nameLocation"] == "middle"
    mark = page.evaluate(OPTION_PART, ["moat", ["series", 0, "markArea"]])
    assert mark["label"]["show"] is False
    key = page.locator(".c401k-key").inner_text()
    for words in ("shaded: DOL rule final", "House election", "presidential election", "bill voted"):
        assert words in key
    shot(page, shots, "06_moat", "moat")
    # a run with a single quarter shows its point (static_1pct: $87B at quarter 0)
    select_option(page, "scenario", "static_1pct")
    set_reset(page)
    open_tab(page, "Markets", MARKET_VIEWS)
    settle(page)
    assert page.evaluate(COLOUR, ["aum", [0x8C, 0x56, 0x4B], 30]) > 20
    shot(page, shots, "06_aum_single_point", "aum")
    # dragging a chart's title moves nothing
    places = page.evaluate(
        "() => [...document.querySelectorAll('[data-view]')].map(e => e.getBoundingClientRect().top)"
    )
    title = page.locator('[data-view="adoption"]').bounding_box()
    page.mouse.move(title["x"] + 40, title["y"] + 10)
    page.mouse.down()
    page.mouse.move(title["x"] + 400, title["y"] + 500, steps=8)
    page.mouse.up()
    page.wait_for_timeout(300)
    again = page.evaluate(
        "() => [...document.querySelectorAll('[data-view]')].map(e => e.getBoundingClientRect().top)"
    )
    assert again == pytest.approx(places, abs=1)
    # dark mode: light text on a dark background
    page.locator("header button").last.click()  # the theme toggle
    page.wait_for_timeout(800)
    png = page.locator('[data-view="adoption"]').screenshot(path=shots / "06_dark_adoption.png")
    import numpy as np
    from PIL import Image

    grey = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    assert np.median(grey) < 80  # the background is dark
    assert grey[3:20, 5:300].max() > 170  # and the title is light
    shot(page, shots, "06_dark_page")


# --- 7. new views: districts, distributions, participants
def test_districts_distributions_and_participants_are_drawn(server, browser, blocked, shots):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked)
    for _ in range(24):
        page.get_by_role("button", name="Step").click()
        page.wait_for_timeout(30)
    page.locator(".run-quarter", has_text=re.compile("^24$")).wait_for()
    open_tab(page, "Districts & Congress", ("districts",))
    settle(page)
    series = page.evaluate(SERIES, ["districts", True])
    cells = series[0]["data"]
    assert sorted(c["id"] for c in cells) == list(range(435))
    assert len({tuple(c["value"][:2]) for c in cells}) == 435
    assert sum(c["value"][2] > 0 for c in cells) > 100  # districts whose voters hold crypto by now
    members = series[1]["data"]
    assert len(members) == 435 and "stance" in members[0]["tip"]
    shot(page, shots, "07_districts_q24", "districts")
    page.get_by_role("button", name="support from exposure").click()
    page.wait_for_function(
        "() => document.querySelector('[data-view=\"districts\"]').__chart.getOption().title[0].text.includes('exposure adds')"
    )
    shot(page, shots, "07_districts_exposure", "districts")
    open_tab(page, "Participants", ("participants", "allocation", "balance"))
    settle(page)
    dots = page.evaluate(SERIES, ["participants", False])
    assert sum(s["n"] for s in dots) == 600
    alloc = page.evaluate(SERIES, ["allocation", True])[0]["data"]
    assert sum(d["value"] for d in alloc) > 0
    balance = page.evaluate(SERIES, ["balance", True])
    total = sum(d["value"] for s in balance for d in s["data"])
    assert total == pytest.approx(70.0, rel=0.02)  # million participants, US scale
    bar = max(range(len(alloc)), key=lambda i: alloc[i]["value"])
    box = page.locator('[data-view="allocation"]').bounding_box()
    x, y = page.evaluate(
        """([i]) => { const e = document.querySelector('[data-view="allocation"]'), ch = e.__chart;
           const v = ch.getOption().series[0].data[i].value;
           return ch.convertToPixel({seriesIndex: 0}, [i, v / 2]); }""",
        [bar],
    )
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.locator(".c401k-inspect-title", has_text="Participant").wait_for()
    shot(page, shots, "07_participants", "participants")
    shot(page, shots, "07_allocation", "allocation")
    shot(page, shots, "07_balance", "balance")


# --- 7. monitors, export and the command line: the same numbers everywhere
def test_monitors_download_and_command_agree_with_the_command_line(server, browser, blocked, shots, tmp_path):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked, clipboard=True)
    assert (
        "100,000 participants, 2,000 employers (the command line's defaults)"
        in page.locator(".run-size").locator("..").inner_text()
    )
    run_to_end(page)  # 1. Run to end stops at the horizon
    assert page.get_by_role("button", name="Step").is_disabled()
    assert len(page.evaluate(SERIES, ["adoption", True])[0]["data"]) == HORIZON + 1  # none beyond
    with page.expect_download() as info:
        page.get_by_role("button", name=re.compile("quarters.csv")).click()
    csv = Path(info.value.path()).read_bytes()
    table = pd.read_csv(io.BytesIO(csv))
    assert list(table["quarter"]) == list(range(HORIZON + 1))
    last = table.iloc[-1]
    monitors = {
        m.get_attribute("data-monitor"): m.locator(".c401k-monitor-value").inner_text()
        for m in page.locator(".c401k-monitor").all()
    }
    from viz.views import MONITORS, fmt_monitor

    assert set(monitors) == {name for name, _, _ in MONITORS}
    for name, _label, kind in MONITORS:
        assert monitors[name] == fmt_monitor(last[name], kind), name  # the numbers of quarters.csv
    assert monitors["adoption_rate"] == f"{100 * last['adoption_rate']:.2f}%"
    assert monitors["moat_index"] == f"{100 * last['moat_index']:.2f}%"
    assert monitors["rule_status"] == str(last["rule_status"]).replace("_", " ")
    shot(page, shots, "07_monitors_at_horizon")
    page.locator(".c401k-copy-button").click()
    command = page.evaluate("() => navigator.clipboard.readText()")
    assert command == page.locator(".c401k-command").inner_text().strip()
    args = shlex.split(command)
    assert args[:4] == ["uv", "run", "crypto401k", "run"]  # 9. the form a uv user can run
    args = [a if a != args[args.index("--out") + 1] else str(tmp_path / "cli") for a in args]
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", *args[3:], "--no-dashboard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "cli" / "quarters.csv").read_bytes() == csv  # bit for bit
    set_reset(page)
    assert not page.get_by_role("button", name="Step").is_disabled()


# ================================ issue 24: the page, round two ================================
def status(page) -> str:
    return page.locator(".c401k-ensemble-status").inner_text()


def start_comparison(page, seeds: str, against: str | None = None) -> None:
    select_option(page, "seeds", seeds)
    if against:
        select_option(page, "against (B)", against)
    page.locator(".c401k-ensemble-run").click()
    page.locator(".c401k-ensemble-status").wait_for()


def param_row(page, name: str):
    return page.locator(".c401k-param", has=page.locator(f"[data-param='{name}']"))


def open_group(page, title: str) -> None:
    page.locator(".v-expansion-panel-header", has_text=title).click()


def type_into(box, text: str, key: str = "Enter") -> None:
    box.fill(text)
    box.press(key)


def type_resolution(page, label: str, text: str) -> None:
    """Type into a resolution box (a combobox: Tab commits the value and closes its list)."""
    type_into(page.get_by_label(label), text, "Tab")


def download(page, trigger) -> tuple[str, bytes]:
    """(suggested file name, bytes) of the download `trigger()` starts."""
    with page.expect_download(timeout=120_000) as info:
        trigger()
    d = info.value
    return d.suggested_filename, Path(d.path()).read_bytes()


# --- 1. a page's work ends with the page, can be cancelled, and a waiting one says so
def test_closing_reloading_or_cancelling_stops_a_pages_runs_and_a_waiting_one_says_so(
    server, browser, blocked, shots, figures
):
    url, _log, proc = server
    big, _ = open_page(browser, url, blocked)  # the default size: several seconds a run
    small, _ = open_page(browser, url, blocked, query="participants=10000")
    start_comparison(big, "20")
    big.locator(".c401k-ensemble-status", has_text="running").wait_for(timeout=120_000)
    start_comparison(small, "5")
    # the workers are busy with the other page: this one waits, and says so
    small.locator(".c401k-ensemble-status", has_text="waiting for a worker").wait_for(timeout=30_000)
    text = status(small)
    assert "other page" in text and "take turns" in text, text
    shot(small, shots, "24_01_waiting_for_a_worker")
    # pages take turns: the small page's runs go on while the big page's 20 are not done
    small.locator(".c401k-ensemble-status", has_text=re.compile("running.* [1-4] of 5")).wait_for(
        timeout=120_000
    )
    assert "20 of 20" not in status(big), status(big)
    # closing the big page cancels its 20 runs: the small one finishes, then the workers rest
    closed = time.monotonic()
    leave(big)
    small.locator(".c401k-ensemble-status", has_text="drawn: 5 seeds").wait_for(timeout=180_000)
    figures["5 small runs finished after the other page closed (s)"] = round(time.monotonic() - closed, 1)
    assert wait_until(lambda: idle(workers_of(proc)), 30), "a closed page's runs kept a worker busy"
    # Cancel stops a running comparison at once
    start_comparison(small, "50")
    small.locator(".c401k-ensemble-status", has_text="running").wait_for(timeout=60_000)
    small.locator(".c401k-ensemble-cancel").click()
    small.locator(".c401k-ensemble-status", has_text="cancelled after").wait_for()
    assert wait_until(lambda: idle(workers_of(proc)), 10), "a cancelled comparison kept running"
    # a reload cancels too (the page's kernel closes; the reloaded page starts afresh)
    start_comparison(small, "50")
    small.locator(".c401k-ensemble-status", has_text="running").wait_for(timeout=60_000)
    small.reload()
    small.wait_for_function(DRAWN, arg=list(MARKET_VIEWS), polling=50)
    assert wait_until(lambda: idle(workers_of(proc)), 15), "a reloaded page's runs kept running"


# --- 2. stopping the command or the server stops everything they started
def server_tree(proc) -> list[int]:
    return [proc.pid] + [c.pid for c in psutil.Process(proc.pid).children(recursive=True)]


def busy_server(browser, blocked, tmp_path):
    """A server with a page whose comparison runs in a worker: (url, process, its processes)."""
    url, proc, _ = start_server(tmp_path / "server.log")
    page, _ = open_page(browser, url, blocked, query="participants=10000")
    start_comparison(page, "50")
    page.locator(".c401k-ensemble-status", has_text="running").wait_for(timeout=120_000)
    tree = server_tree(proc)
    names = " ".join(" ".join(psutil.Process(p).cmdline()) for p in tree)
    assert "solara" in names and "multiprocessing" in names and "resource_tracker" in names, names
    return url, proc, tree


@pytest.mark.parametrize("target", ["command", pytest.param("server", marks=pytest.mark.slow)])
def test_sigterm_stops_every_process_the_command_started(target, browser, blocked, tmp_path, figures):
    url, proc, tree = busy_server(browser, blocked, tmp_path)
    port = urllib.parse.urlparse(url).port
    victim = proc.pid if target == "command" else solara_process(proc).pid
    sent = time.monotonic()
    os.kill(victim, signal.SIGTERM)
    try:
        assert wait_until(lambda: not running(tree), 15), [
            " ".join(psutil.Process(p).cmdline())[:120] for p in running(tree)
        ]
        figures[f"SIGTERM to the {target}: every process gone (s)"] = round(time.monotonic() - sent, 1)
        assert port_free(port), "the port is still taken"
        again, proc2, _ = start_server(tmp_path / "again.log", port=port)  # a new server on the same port
        stop_server(proc2)
    finally:
        for pid in running(tree):
            os.kill(pid, signal.SIGKILL)


def test_ctrl_c_to_the_command_stops_the_server(tmp_path):
    url, proc, _ = start_server(tmp_path / "server.log")
    tree = server_tree(proc)
    os.kill(proc.pid, signal.SIGINT)
    try:
        assert wait_until(lambda: not running(tree), 15)
        assert proc.wait(5) == 0
    finally:
        for pid in running(tree):
            os.kill(pid, signal.SIGKILL)


# --- 3. memory: page loads in sequence and at once, the cap, idle release
MEMORY_SLACK_MB = 150  # the stated bound: within two default-size models of the warm server


def load_and_close(browser, url, blocked, sequence: int, at_once: int, figures, label: str, proc):
    server = solara_process(proc)
    first, seconds = open_page(browser, url, blocked, size=(1280, 800))
    leave(first)
    time.sleep(3)
    warm = server.memory_info().rss / 1e6
    times, peak = [seconds], warm
    for _ in range(sequence - 1):
        page, seconds = open_page(browser, url, blocked, size=(1280, 800))
        times.append(seconds)
        peak = max(peak, server.memory_info().rss / 1e6)
        leave(page)
    pages = [open_page(browser, url, blocked, size=(1280, 800), wait=False)[0] for _ in range(at_once)]
    started = time.monotonic()
    for page in pages:
        page.wait_for_function(DRAWN, arg=list(MARKET_VIEWS), polling=50)
    together = time.monotonic() - started
    peak = max(peak, server.memory_info().rss / 1e6)
    for page in pages:
        leave(page)
    settled = wait_until(lambda: server.memory_info().rss / 1e6 <= warm + MEMORY_SLACK_MB, 60, step=1.0)
    after = server.memory_info().rss / 1e6
    figures[f"{label}: server memory warm / peak / after (MB)"] = f"{warm:.0f} / {peak:.0f} / {after:.0f}"
    figures[f"{label}: page load in sequence (s, median)"] = round(statistics.median(times), 2)
    figures[f"{label}: {at_once} pages at once, all drawn (s)"] = round(together, 2)
    assert settled, f"server memory {after:.0f} MB after the loads; warm {warm:.0f} MB + {MEMORY_SLACK_MB} MB"


def test_page_loads_in_sequence_and_at_once_leave_the_servers_memory_bounded(
    browser, blocked, tmp_path, figures
):
    """The quick form of the load test below (which runs with `pytest -m slow`)."""
    url, proc, _ = start_server(tmp_path / "server.log")
    try:
        load_and_close(browser, url, blocked, 4, 3, figures, "4 + 3 loads", proc)
    finally:
        stop_server(proc)


@pytest.mark.slow
def test_thirty_page_loads_in_sequence_and_five_at_once(browser, blocked, tmp_path, figures):
    url, proc, _ = start_server(tmp_path / "server.log")
    try:
        load_and_close(browser, url, blocked, 30, 5, figures, "30 + 5 loads", proc)
    finally:
        stop_server(proc)


def test_a_full_server_says_so_and_lost_or_idle_pages_give_their_runs_back(browser, blocked, tmp_path, shots):
    env = {
        "CRYPTO401K_VIZ_MAX_RUNS": "2",
        "CRYPTO401K_VIZ_IDLE_MINUTES": "0.15",  # 9 s without use
        "SOLARA_KERNEL_CULL_TIMEOUT": "2s",  # a page gone without closing is forgotten after 2 s
    }
    url, proc, _ = start_server(tmp_path / "server.log", env)
    try:
        a, _ = open_page(browser, url, blocked, query="participants=10000&seed=4")
        step(a, 2)
        b, _ = open_page(browser, url, blocked, query="participants=10000")
        c, _ = open_page(browser, url, blocked, query="participants=10000", wait=False)
        notice = c.locator(".c401k-notice")
        notice.wait_for()
        assert "limit of 2 page runs" in notice.inner_text() and "Try again" in notice.inner_text()
        shot(c, shots, "24_03_server_full")
        # b's browser goes away without closing the page (no close beacon): the server culls it
        b.context.route("**/_solara/api/close/**", lambda route: route.abort())
        b.context.close()
        time.sleep(4)
        c.locator(".c401k-restore").click()
        c.wait_for_function(DRAWN, arg=list(MARKET_VIEWS), polling=50)
        # nobody uses a: its run is released, the page says so, and its address keeps the run
        a.locator(".c401k-notice", has_text="without use").wait_for(timeout=90_000)
        shot(a, shots, "24_03_released_idle")
        assert "seed=4" in a.url and "q=2" in a.url
        a.locator(".c401k-restore", has_text="quarter 2").click()
        a.wait_for_function(DRAWN, arg=list(MARKET_VIEWS), polling=50)
        assert quarter(a) == 2  # the same run, restored
        expect(a.locator(".run-seed")).to_have_text("4")
    finally:
        stop_server(proc)


# --- 4. the flow chart's line is the running total of its bars
def test_the_flow_line_sums_its_bars_and_each_line_and_axis_says_what_it_sums(
    server, browser, blocked, shots
):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked, query="q=40")
    settle(page)
    series = page.evaluate(SERIES, ["flows", True])
    bars = next(s for s in series if s["type"] == "bar")["data"]
    total = next(s for s in series if s["name"].startswith("running total of the bars"))["data"]
    values = [b["value"] if isinstance(b, dict) else b for b in bars]
    running_sum = list(pd.Series(values).cumsum())
    assert total == pytest.approx(running_sum, abs=1e-4)
    names = [s["name"] for s in series]
    assert any("money committed" in n and "right axis" in n for n in names), names
    axes = [a["name"] for a in page.evaluate(OPTION_PART, ["flows", ["yAxis"]])]
    assert axes == ["$B in the quarter", "$B summed since 2025Q3"]
    caption = page.locator(".c401k-panel", has=page.locator('[data-view="flows"]')).locator(".c401k-caption")
    assert "sums the bars" in caption.inner_text()
    shot(page, shots, "24_04_flows", "flows")


# --- 5. money one way everywhere; nothing clipped
CLIPPED = """(view) => {
  const el = document.querySelector(`[data-view="${view}"]`), ch = el.__chart, model = ch.getModel();
  const W = el.clientWidth, H = el.clientHeight, out = [];
  const buttons = el.parentElement.querySelector('.c401k-export');
  const bw = buttons ? buttons.getBoundingClientRect().width + 6 : 0;
  for (const kind of ['title', 'legend', 'xAxis', 'yAxis', 'visualMap']) {
    (model.getComponent(kind) ? model.findComponents({mainType: kind}) : []).forEach((c, i) => {
      const v = ch.getViewOfComponentModel(c);
      if (!v || !v.group) return;
      const r = v.group.getBoundingRect(); if (!r.width) return;
      const t = v.group.transform || [1, 0, 0, 1, v.group.x || 0, v.group.y || 0];
      const left = r.x * t[0] + t[4], top = r.y * t[3] + t[5], right = left + r.width * t[0], bottom = top + r.height * t[3];
      const limit = kind === 'title' ? W - bw : W;
      if (left < -1 || top < -1 || right > limit + 1 || bottom > H + 1)
        out.push(`${kind}${i}: ${left.toFixed(0)},${top.toFixed(0)} to ${right.toFixed(0)},${bottom.toFixed(0)} in ${limit}x${H}`);
    });
  }
  return out;
}"""


def test_money_reads_one_way_and_no_chart_is_clipped(server, browser, blocked, shots):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked, size=(1280, 800), query="q=40")
    settle(page)
    from viz.money import money

    values = [
        72.3e9,
        -0.29e9,
        -30.69e9,
        8.7e12,
        45_231.0,
        1e3,
        950.0,
        0.42,
        0.0,
        -0.004,
        999.96e6,
        2.5,
        -1234.5,
    ]
    for trim in (False, True):
        written = page.evaluate(
            "([vs, trim]) => vs.map(v => document.querySelector('[data-view=\"flows\"]').__money(v, trim))",
            [values, trim],
        )
        assert written == [money(v, trim=trim) for v in values]  # the browser writes money as Python does
    # a negative flow's tooltip: the sign before the dollar
    bars = next(s for s in page.evaluate(SERIES, ["flows", True]) if s["type"] == "bar")["data"]
    worst = min(range(len(bars)), key=lambda i: bars[i])
    assert bars[worst] < 0
    hover_item(page, "flows", 0, [worst, bars[worst] / 2])
    page.wait_for_timeout(300)
    tip = page.evaluate(TOOLTIP, "flows")
    assert tip is not None and money(bars[worst] * 1e9) in tip["text"] and "$-" not in tip["text"], tip
    page.mouse.move(0, 0)
    texts = page.locator(".c401k-monitors").inner_text() + page.locator(".c401k-inspector").inner_text()
    assert "$-" not in texts and not re.search(r"\$\d(\.\d+)?e[+-]", texts)
    for tab, views in (
        ("Markets", MARKET_VIEWS),
        ("Districts & Congress", ("districts", "moat", "house")),
        ("Participants", ("participants", "allocation", "balance", "retirement")),
        ("Employers", ("network",)),
    ):
        open_tab(page, tab, views)
        settle(page)
        page.wait_for_function(DRAWN, arg=["inspected"], polling=50)
        for view in (*views, "inspected"):
            assert page.evaluate(CLIPPED, view) == [], view
    open_tab(page, "Participants", ("participants", "balance"))
    settle(page)
    labels = page.evaluate(OPTION_PART, ["balance", ["xAxis", 0, "data"]])
    assert labels[:3] == ["$100", "$316", "$1k"] and all("e+" not in t for t in labels)
    shown = page.evaluate(
        """() => { const ch = document.querySelector('[data-view="participants"]').__chart;
          return ch.getModel().getComponent('xAxis').axis.getViewLabels().map(l => l.formattedLabel); }"""
    )
    assert shown[0] == "$100" and shown[-1] == "$10M", shown
    shot(page, shots, "24_05_participants_1280")


# --- 6. the district inspector: one panel per unit
def test_the_district_inspector_draws_dollars_and_stance_on_separate_axes(server, browser, blocked, shots):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked, query="q=12")
    select_option(page, "inspect", "district")
    page.locator(".c401k-inspect-title", has_text="District").wait_for()
    settle(page)
    axes = page.evaluate(OPTION_PART, ["inspected", ["yAxis"]])
    assert [a["name"] for a in axes] == ["$M", "log-odds"]
    grids = page.evaluate(OPTION_PART, ["inspected", ["grid"]])
    assert len(grids) == 2 and grids[0]["top"] + grids[0]["height"] < grids[1]["top"]
    names = [s["name"] for s in page.evaluate(SERIES, ["inspected", False])]
    assert names == ["crypto held ($M)", "member's stance (log-odds)"]
    shot(page, shots, "24_06_district_inspector", "inspected")


# --- 7. what the charts say about who holds crypto; the policy group
def test_holders_by_choice_show_bands_match_their_legend_and_the_groups_are_named(
    server, browser, blocked, shots
):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked, query="q=40")
    settle(page)
    # where every holder chose crypto, the 'by own choice' line shows on the wide 'any' line
    blue = page.evaluate(COLOUR, ["adoption", [0x1F, 0x77, 0xB4], 40])
    grey = page.evaluate(COLOUR, ["adoption", [0x9A, 0x9A, 0x9A], 50])
    assert blue > 200 and grey > 200, (blue, grey)
    shot(page, shots, "24_07_adoption", "adoption")
    open_tab(page, "Participants", ("allocation",))
    settle(page)
    caption = page.locator(".c401k-panel", has=page.locator('[data-view="allocation"]')).locator(
        ".c401k-caption"
    )
    text = caption.inner_text()
    held = page.locator("[data-monitor='adoption_rate'] .c401k-monitor-value").inner_text()
    assert f"{held} hold crypto" in text and "without a current choice" in text, (held, text)
    headers = [h.strip() for h in page.locator(".v-expansion-panel-header").all_inner_texts()]
    assert any(h.startswith("Policy levers (retirement security)") for h in headers), headers
    assert not any(h[:1].islower() for h in headers), headers


# --- 8. the seed box: one state, one message
def test_the_seed_box_never_says_two_things_and_reset_runs_what_it_shows(server, browser, blocked):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked, query="participants=10000")
    seed = page.get_by_label(re.compile("^seed \\("))
    type_into(seed, "1000")
    pending = page.locator(".c401k-pending")
    pending.locator("text=seed 1000").wait_for()
    type_into(seed, "abc")
    page.locator(".c401k-waits").wait_for()
    text = pending.inner_text()
    assert "seed 1000" not in text and "refused: seed" in text, text
    assert "expected an integer" in page.locator(".c401k-seed").inner_text()
    assert page.locator(".c401k-reset").is_disabled()  # never runs a seed the box does not show
    type_into(seed, "12")
    pending.locator("text=seed 12").wait_for()
    assert not page.locator(".c401k-reset").is_disabled()
    set_reset(page)
    expect(page.locator(".run-seed")).to_have_text("12")
    expect(page.locator(".c401k-pending")).to_have_count(0)


# --- 9. the command a uv user can run, with names that differ when runs differ
def test_tuned_variants_of_a_seed_get_different_outs_and_file_names(server, browser, blocked, tmp_path):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked, query="participants=10000&seed=2")
    outs, names = [], []
    open_group(page, "Crypto market")
    for value in ("6.5", "7.25"):
        type_into(param_row(page, "flow_multiplier").get_by_label("value"), value)
        set_reset(page)
        shown = page.locator(".c401k-command", has_text=f"flow_multiplier={value} ")
        shown.wait_for()  # (the command follows the new run a moment after its quarter)
        command = shown.inner_text()
        assert command.startswith("uv run crypto401k run ")
        outs.append(shlex.split(command)[shlex.split(command).index("--out") + 1])
        name, _data = download(page, lambda: page.get_by_role("button", name="quarters.csv").click())
        names.append(name)
        assert f"flow_multiplier={value}" in name and "seed2" in name, name
    assert outs[0] != outs[1] and names[0] != names[1]
    # the second command does not find the first's results in its --out
    for out in outs:
        args = [
            *shlex.split(page.locator(".c401k-command").inner_text())[3:],
            "--quarters",
            "1",
            "--no-dashboard",
        ]
        args[args.index("--out") + 1] = str(tmp_path / out)
        result = subprocess.run(
            [sys.executable, "-m", "cli.main", *args], cwd=ROOT, capture_output=True, text=True
        )
        assert result.returncode == 0, result.stderr[-1500:]


# --- 10. the address holds the run: reload and shared links rebuild it at the same quarter
def test_reload_and_a_shared_link_rebuild_the_same_run_at_the_same_quarter(server, browser, blocked, shots):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked)
    type_resolution(page, "participant agents", "10000")
    type_into(page.get_by_label(re.compile("^seed \\(")), "5")
    select_option(page, "scenario", "crash")
    open_group(page, "Crypto market")
    type_into(param_row(page, "flow_multiplier").get_by_label("value"), "7.25")
    set_reset(page)
    step(page, 3)
    open_tab(page, "Participants", ("participants",))
    page.wait_for_function("() => location.search.includes('q=3')")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(page.url).query))
    assert query == {
        "scenario": "crash",
        "seed": "5",
        "participants": "10000",
        "flow_multiplier": "7.25",
        "q": "3",
        "tab": "2",
    }
    _name, before = download(page, lambda: page.get_by_role("button", name="quarters.csv").click())
    monitors = page.locator(".c401k-monitors").inner_text()
    page.reload()
    page.wait_for_function(DRAWN, arg=["participants"], polling=50)
    assert quarter(page) == 3 and page.locator(".c401k-monitors").inner_text() == monitors
    expect(page.locator(".run-overrides")).to_have_text("flow_multiplier = 7.25")
    _name, after = download(page, lambda: page.get_by_role("button", name="quarters.csv").click())
    assert after == before  # the same run, bit for bit
    shared, _ = open_page(browser, page.url, blocked, wait=False)  # a colleague opens the link
    shared.wait_for_function(DRAWN, arg=["participants"], polling=50)
    assert quarter(shared) == 3 and shared.locator(".c401k-monitors").inner_text() == monitors
    bad, _ = open_page(browser, url, blocked, query="participants=10000&flow_multiplier=99&seed=5")
    warning = bad.locator(".c401k-address-refused").inner_text()
    assert "flow_multiplier" in warning and "0.5 to 25" in warning
    assert bad.locator(".run-seed").inner_text() == "5"  # the rest of the address is used


# --- 11. every parameter typed exactly, within its range
def test_every_parameter_can_be_typed_exactly_and_is_refused_outside_its_range(server, browser, blocked):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked, query="participants=10000")
    from model.parameters import PARAMETERS

    behavioural = [p for p in PARAMETERS.values() if p.behavioural and p.type is not bool]
    for header in page.locator(".v-expansion-panel-header").all():
        header.click()
    page.locator("[data-param]").nth(len(behavioural) - 1).wait_for()
    assert page.locator(".c401k-param-box").count() == len(behavioural)  # a box beside every slider
    row = param_row(page, "affinity_mean")
    box = row.get_by_label("value")
    type_into(box, "7")
    refused = row.locator(".c401k-refused")
    refused.wait_for()
    assert "affinity_mean" in refused.inner_text() and "from -5 to 5" in refused.inner_text()
    assert page.locator(".c401k-reset").is_disabled()
    type_into(box, "-0.7473")  # between the slider's steps of 0.01
    row.locator(".c401k-param-value", has_text="-0.7473").wait_for()
    assert refused.count() == 0 and not page.locator(".c401k-reset").is_disabled()
    type_resolution(page, "participant agents", "400000")
    page.locator(".c401k-participants", has_text="300,000 on the page").wait_for()
    type_resolution(page, "participant agents", "10000")
    set_reset(page)
    expect(page.locator(".c401k-command")).to_contain_text("--set affinity_mean=-0.7473")


# --- 12. comparisons on the same seeds, and every export
def test_two_settings_compared_on_the_same_seeds_as_lines_and_fans(server, browser, blocked, shots, figures):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked, query="participants=10000&seed=3")
    open_group(page, "Crypto market")
    type_into(param_row(page, "flow_multiplier").get_by_label("value"), "12")
    page.locator(".c401k-pending", has_text="flow_multiplier = 12").wait_for()
    # one seed: B's run over A's, as lines
    start_comparison(page, "1", "the settings not applied yet")
    page.locator(".c401k-ensemble-status", has_text="drawn: seed 3").wait_for(timeout=180_000)
    settle(page)
    names = [s["name"] for s in page.evaluate(SERIES, ["price", False])]
    assert "A: with 401(k) flow (seed 3)" in names and "B: with 401(k) flow (seed 3)" in names, names
    assert "B: flow_multiplier = 12" in status(page)
    # five seeds: fans for both, B - A seed by seed in the monitors and the table; the runs go
    # to worker processes, and another page keeps stepping meanwhile
    other, _ = open_page(browser, url, blocked)
    started = time.monotonic()
    start_comparison(page, "5", "the settings not applied yet")
    page.locator(".c401k-ensemble-status", has_text=re.compile("running|waiting")).wait_for()
    assert workers_of(server[2]), "the comparison runs in worker processes"
    t = time.perf_counter()
    step(other, 3)
    figures["3 steps on another page during a comparison (s)"] = round(time.perf_counter() - t, 2)
    page.locator(".c401k-ensemble-status", has_text="drawn: 5 seeds").wait_for(timeout=300_000)
    figures["compare 2 x 5 seeds at 10,000 participants (s)"] = round(time.monotonic() - started, 1)
    settle(page)
    names = [s["name"] for s in page.evaluate(SERIES, ["price", False])]
    assert {"A: with 401(k) flow: 5-95% of 5 seeds", "B: with 401(k) flow: median of 5 seeds"} <= set(names)
    assert "B - A" in page.locator("[data-monitor='flow_price_impact']").inner_text()
    table = page.locator("table.c401k-compare").inner_text()
    assert "B - A" in table and "pts" in table
    step(page, 2)
    settle(page)
    shot(page, shots, "24_12_compare")
    page.locator('[data-view="price"]').scroll_into_view_if_needed()
    page.locator(".c401k-panel", has=page.locator('[data-view="price"]')).screenshot(
        path=shots / "24_12_compare_price.png"
    )
    name, data = download(page, lambda: page.get_by_role("button", name="per-seed outputs (CSV)").click())
    runs = pd.read_csv(io.BytesIO(data))
    assert len(runs) == 2 * 5 * (HORIZON + 1) and set(runs["arm"]) == {"A", "B"}
    assert sorted(set(runs["seed"])) == [3, 4, 5, 6, 7] and name.endswith(".csv")
    b = runs[(runs["arm"] == "B") & (runs["seed"] == 4)]
    assert "flow_multiplier=12" in b["command"].iloc[0] and "--seed 4" in b["command"].iloc[0]
    open_tab(page, "Districts & Congress", ("moat",))
    settle(page)
    names = [s["name"] for s in page.evaluate(SERIES, ["moat", False])]
    assert "A: moat index: 5-95% of 5 seeds" in names and "B: moat index: 5-95% of 5 seeds" in names


def test_every_chart_and_the_runs_files_can_be_saved(server, browser, blocked, shots, tmp_path):
    url, _log, _proc = server
    page, _ = open_page(browser, url, blocked, query="participants=10000&seed=2&flow_multiplier=6.5&q=4")
    settle(page)
    page.locator(".c401k-files").scroll_into_view_if_needed()
    shot(page, shots, "24_12_export")
    for view in MARKET_VIEWS + ("inspected",):
        panel = page.locator(".c401k-chart-box", has=page.locator(f'[data-view="{view}"]'))
        name, png = download(page, lambda panel=panel: panel.locator(".c401k-export-png").click())
        assert (
            png[:8] == b"\x89PNG\r\n\x1a\n"
            and name.startswith(f"{view}-baseline-seed2-")
            and name.endswith("-q4.png")
        )
        name, svg = download(page, lambda panel=panel: panel.locator(".c401k-export-svg").click())
        assert name.endswith("-q4.svg") and b"<svg" in svg[:400] and b"<text" in svg
        assert view == "inspected" or b"2025Q3" in svg  # the time axis, as text
    # the run's files, as `crypto401k run` writes them for the same quarters
    command = shlex.split(page.locator(".c401k-command").inner_text())[3:]
    out = tmp_path / "cli"
    command[command.index("--out") + 1] = str(out)
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", *command, "--quarters", "4"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-1500:]
    name, data = download(page, lambda: page.get_by_role("button", name="summary.json").click())
    assert name == "summary-baseline-seed2-participants=10000-flow_multiplier=6.5-q4.json"
    page_summary, cli_summary = json.loads(data), json.loads((out / "summary.json").read_text())
    assert page_summary == cli_summary
    name, png = download(page, lambda: page.get_by_role("button", name="dashboard.png").click())
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20_000
    from PIL import Image

    assert Image.open(io.BytesIO(png)).size == Image.open(out / "dashboard.png").size
    _name, csv = download(page, lambda: page.get_by_role("button", name="quarters.csv").click())
    assert csv == (out / "quarters.csv").read_bytes()
    # the settings as a scenario file that `run` and `batch` accept
    name, toml = download(page, lambda: page.get_by_role("button", name="scenario .toml").click())
    scenario = tmp_path / name
    scenario.write_bytes(toml)
    assert tomllib.loads(toml.decode())["parameters"]["flow_multiplier"] == 6.5
    again = tmp_path / "from-file"
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "run", "--scenario", str(scenario), "--seed", "2", "--quarters", "4",
         "--out", str(again), "--no-dashboard"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-1500:]
    assert (again / "quarters.csv").read_bytes() == csv
    # (an experiment file listing it runs under `batch`: tests/test_viz_sharing.py)
