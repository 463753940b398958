"""The browser page's speed against its targets, idle and under load (docs/guide/viz.md quotes
the figures).

    uv run python benchmarks/bench_viz.py [--steps 10] [--pages 3] [--load N] [--machine-factor F]
                                          [--out bench_viz_out] [--no-browser]

Targets (issue 24, on the developers' machine; the project's 2-core test machine is about 2.5x
slower, so run it there with --machine-factor 2.5 to compare with the targets): a new page at the default size (100,000 participants, 2,000 employers) fully drawn
within 2 s, Step (click to redraw) within 0.2 s, Play at 8 quarters a second or more, all three
also while another page plays; the server answers within 5 s of `crypto401k viz` starting
(issue 14). Each figure is measured twice:
* idle: nothing else runs but this page (and, for the "while another page plays" figures, the
  other page);
* under load: `--load N` processes (default: one per core) spin on the CPU meanwhile, as other
  users' jobs would on a shared machine.
Printed with the median and the 90th percentile where there are several:
* the model's own step, and a page step in Python (solara.render: model step, the visible
  charts' options, Solara's re-render);
* server start: launch of `crypto401k viz` to its first HTTP response;
* a new page: navigation (a fresh browser context, nothing cached) to monitors and the four
  market charts drawn;
* Step: click to the adoption chart redrawn, alone and while another page plays;
* Play: quarters a second from quarter 0 to the horizon, alone and while another page plays.
Screenshots of every tab go to --out. Timings depend on the machine's load (printed).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGETS = {"server ready": 5.0, "new page": 2.0, "step": 0.2, "play": 8.0}  # s, s, s, quarters/s
FACTOR = 1.0  # how much slower this machine is than the developers' (--machine-factor)


def exactly(n: int) -> re.Pattern:
    return re.compile(f"^{n}$")


def summary(label: str, seconds: list[float], target: float | None = None, scaled: bool = True) -> None:
    """A line of timings in ms with the verdict against a target in seconds (at most; times
    FACTOR on a slower machine unless `scaled` is False)."""
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    verdict = ""
    if target is not None:
        here = target * (FACTOR if scaled else 1.0)
        verdict = (
            f"   target <= {here:.3g} s here: {'met' if statistics.median(ms) <= here * 1000 else 'MISSED'}"
        )
    print(f"{label:<52} median {statistics.median(ms):7.0f} ms   p90 {p90:7.0f} ms   (n={len(ms)}){verdict}")


def rate(label: str, quarters_per_s: float, target: float | None = None) -> None:
    verdict = ""
    if target:
        here = target / FACTOR
        verdict = f"   target >= {here:.3g} here: {'met' if quarters_per_s >= here else 'MISSED'}"
    print(f"{label:<52} {quarters_per_s:6.1f} quarters/s{verdict}")


def python_costs(steps: int) -> None:
    import ipyvuetify as v
    import solara

    from viz import page as app
    from viz.session import PageModel
    from viz.settings import Settings

    model = PageModel(Settings())
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - t)
    summary("model step (Python)", times)
    box, rc = solara.render(solara.AppLayout(children=[app.Page()]), handle_error=False)
    button = rc.find(v.Btn, children=["Step"]).widget
    times = []
    for _ in range(steps):
        t = time.perf_counter()
        button.click()
        times.append(time.perf_counter() - t)
    summary("page step (Python, solara.render)", times)


def _spin(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


class Load:
    """N processes spinning on the CPU while the block runs (another user's jobs)."""

    def __init__(self, n: int):
        self.n = n
        self.stop = multiprocessing.Event()
        self.procs: list[multiprocessing.Process] = []

    def __enter__(self) -> Load:
        for _ in range(self.n):
            p = multiprocessing.Process(target=_spin, args=(self.stop,), daemon=True)
            p.start()
            self.procs.append(p)
        time.sleep(2)
        print(f"-- under load: {self.n} spinning processes, load average {os.getloadavg()[0]:.1f}")
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        for p in self.procs:
            p.join(5)
            if p.is_alive():
                p.kill()


def browser_costs(steps: int, pages: int, load: int, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from test_app_browser import (
        CHROMIUM,
        CHROMIUM_ARGS,
        DRAWN,
        HORIZON,
        MARKET_VIEWS,
        PICTURE,
        TABS,
        free_port,
    )

    port = free_port()
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "viz", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                if time.monotonic() - t0 > 300:
                    raise SystemExit("server did not start") from None
                time.sleep(0.05)
        summary("server ready", [time.monotonic() - t0], TARGETS["server ready"], scaled=False)  # issue 14's
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

            def new_page(query: str = ""):
                context = browser.new_context(viewport={"width": 1600, "height": 1000})
                page = context.new_page()
                page.set_default_timeout(180_000)
                t = time.monotonic()
                page.goto(url + query)
                page.wait_for_function(DRAWN, arg=list(MARKET_VIEWS), polling=20)
                page.locator(".c401k-monitor").first.wait_for()
                return page, time.monotonic() - t

            def close(page) -> None:
                page.goto("about:blank")  # the page's close beacon: its run is released
                page.wait_for_timeout(500)
                page.context.close()

            def quarter(page) -> int:
                return int(page.locator(".run-quarter").inner_text())

            def step_times(page, n):
                times = []
                for _ in range(n):
                    q = quarter(page)
                    if q >= HORIZON - 1:
                        break
                    before = page.evaluate(PICTURE, "adoption")
                    t = time.perf_counter()
                    page.get_by_role("button", name="Step").click()
                    page.locator(".run-quarter", has_text=exactly(q + 1)).wait_for()
                    page.wait_for_function(
                        f"(old) => ({PICTURE})('adoption') !== old", arg=before, polling=20
                    )
                    times.append(time.perf_counter() - t)
                return times

            def play_rate(page) -> float:
                """Quarters a second from the page's quarter to the horizon with Play."""
                q0 = quarter(page)
                t = time.perf_counter()
                page.get_by_role("button", name="Play", exact=True).click()
                page.locator(".run-quarter", has_text=exactly(HORIZON)).wait_for(timeout=600_000)
                return (HORIZON - q0) / (time.perf_counter() - t)

            def keep_playing(page) -> None:
                """Play `page` from quarter 0 (after it has finished playing, if it was)."""
                page.get_by_role("button", name="Play", exact=True).wait_for(timeout=600_000)
                run = page.locator(".run-quarter").get_attribute("data-run")
                page.locator(".c401k-reset").click()
                page.locator(f".run-quarter:not([data-run='{run}'])").wait_for()
                page.get_by_role("button", name="Play", exact=True).click()

            first, seconds = new_page()
            summary("a new page, the first after the server started", [seconds])
            close(first)

            def measure(tag: str) -> None:
                renders = []
                for _ in range(pages):
                    p, seconds = new_page()
                    renders.append(seconds)
                    close(p)
                summary(f"a new page fully drawn ({tag})", renders, TARGETS["new page"])
                page, _ = new_page()
                summary(f"Step, click to redraw ({tag})", step_times(page, steps), TARGETS["step"])
                page.locator(".c401k-reset").click()
                page.locator(".run-quarter", has_text=exactly(0)).wait_for()
                rate(f"Play ({tag})", play_rate(page), TARGETS["play"])
                other, _ = new_page()
                keep_playing(other)
                page.locator(".c401k-reset").click()
                page.locator(".run-quarter", has_text=exactly(0)).wait_for()
                summary(
                    f"Step while another page plays ({tag})",
                    step_times(page, min(steps, 10)),
                    TARGETS["step"],
                )
                page.locator(".c401k-reset").click()
                page.locator(".run-quarter", has_text=exactly(0)).wait_for()
                keep_playing(other)
                rate(f"Play while another page plays ({tag})", play_rate(page), TARGETS["play"])
                if tag == "idle":
                    out.mkdir(parents=True, exist_ok=True)
                    for k, tab in enumerate(TABS):
                        page.get_by_role("tab", name=tab).click()
                        page.wait_for_timeout(2500)
                        page.screenshot(path=out / f"tab{k}.png")
                    print(f"screenshots in {out}")
                close(other)
                close(page)

            print(f"-- idle: load average {os.getloadavg()[0]:.1f}")
            measure("idle")
            if load:
                with Load(load):
                    measure("under load")
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--pages", type=int, default=3, help="new pages whose first render is timed")
    parser.add_argument(
        "--load",
        type=int,
        default=os.cpu_count() or 2,
        help="spinning processes for the 'under load' figures (0: none)",
    )
    parser.add_argument("--out", type=Path, default=Path("bench_viz_out"))
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--machine-factor",
        type=float,
        default=1.0,
        help="how much slower this machine is than the developers' (2.5 for the project's 2-core machine):"
        " times are compared with the targets times this, rates with the targets divided by it",
    )
    args = parser.parse_args()
    global FACTOR
    FACTOR = args.machine_factor
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; targets scaled by {FACTOR:g}"
        " (the developers' machine is 1)"
    )
    python_costs(args.steps)
    if not args.no_browser:
        browser_costs(args.steps, args.pages, args.load, args.out)


if __name__ == "__main__":
    main()
