"""The browser page's speed against its targets (docs/guide/viz.md quotes the figures).

    uv run python benchmarks/bench_viz.py [--steps 20] [--pages 3] [--out bench_viz_out] [--no-browser]

Targets (issue 14): the server answers within 5 s of `crypto401k viz` starting, and a new
page at the default size (the command line's: 100,000 participants, 2,000 employers) is fully
drawn (monitors and the four market charts) within 3 s. Prints, with the median and the 90th
percentile where there are several:
* the model's own step, and a page step in Python (Mesa's model in a page rendered with
  solara.render: model step, the visible charts' options, Solara's re-render);
* server start: launch of `crypto401k viz` to its first HTTP response;
* first full render: navigation to every chart of the first tab drawn, for the first page
  after start (which may still wait for the page's import in the background) and for new
  pages (a fresh browser context each, nothing cached);
* a page step in the browser (click to redraw), alone and while another page plays.
Screenshots of every tab go to --out. Timings depend on the machine's load (printed).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
TARGETS = {"server ready": 5.0, "first full render (new page)": 3.0}


def summary(label: str, seconds: list[float], target: float | None = None) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    verdict = ""
    if target is not None:
        verdict = f"   target {target:.0f} s: {'met' if statistics.median(ms) <= target * 1000 else 'MISSED'}"
    print(f"{label:<44} median {statistics.median(ms):7.0f} ms   p90 {p90:7.0f} ms   (n={len(ms)}){verdict}")


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


def browser_costs(steps: int, pages: int, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from test_app_browser import CHROMIUM, CHROMIUM_ARGS, DRAWN, MARKET_VIEWS, PICTURE, TABS, free_port

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
        summary("server ready", [time.monotonic() - t0], TARGETS["server ready"])
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)

            def new_page():
                page = browser.new_context(viewport={"width": 1600, "height": 1000}).new_page()
                page.set_default_timeout(120_000)
                t = time.monotonic()
                page.goto(url)
                page.wait_for_function(DRAWN, arg=list(MARKET_VIEWS), polling=50)
                page.locator(".c401k-monitor").first.wait_for()
                return page, time.monotonic() - t

            first, seconds = new_page()
            summary("first full render (first page after start)", [seconds])
            renders = []
            for _ in range(pages):
                p, seconds = new_page()
                renders.append(seconds)
                p.context.close()
            summary("first full render (new page)", renders, TARGETS["first full render (new page)"])
            other, _ = new_page()

            def step_times(page, n):
                times = []
                for _ in range(n):
                    q = int(page.locator(".run-quarter").inner_text())
                    before = page.evaluate(PICTURE, "adoption")
                    t = time.perf_counter()
                    page.get_by_role("button", name="Step").click()
                    page.locator(".run-quarter", has_text=str(q + 1)).wait_for()
                    page.wait_for_function(
                        f"(old) => ({PICTURE})('adoption') !== old", arg=before, polling=20
                    )
                    times.append(time.perf_counter() - t)
                return times

            summary("page step (browser, click to redraw)", step_times(first, steps))
            other.get_by_role("button", name="Play").click()
            summary("page step while another page plays", step_times(first, min(steps, 10)))
            out.mkdir(parents=True, exist_ok=True)
            for k, tab in enumerate(TABS):
                first.get_by_role("tab", name=tab).click()
                first.wait_for_timeout(2500)
                first.screenshot(path=out / f"tab{k}.png")
            print(f"screenshots in {out}")
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(20)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--pages", type=int, default=3, help="new pages whose first render is timed")
    parser.add_argument("--out", type=Path, default=Path("bench_viz_out"))
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    python_costs(args.steps)
    if not args.no_browser:
        browser_costs(args.steps, args.pages, args.out)


if __name__ == "__main__":
    main()
