"""What one step costs in the browser page at its default size (docs/guide/viz.md quotes it).

    uv run python benchmarks/bench_viz.py [--steps 20] [--out bench_viz_out] [--no-browser]

Prints the median and the 90th percentile of:
* the model's own step (Python, no page);
* a page step in Python: Mesa's Step button in a page rendered with solara.render (model step,
  every chart's option rebuilt, Solara's re-render);
* a page step in the browser: `crypto401k viz` on a free loopback port, headless Chromium clicks
  Step and waits until the quarter shown has advanced and the charts have been redrawn.
Screenshots of both page tabs go to --out.
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


def summary(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p90 = ms[min(len(ms) - 1, int(round(0.9 * (len(ms) - 1))))]
    print(f"{label:<34} median {statistics.median(ms):7.0f} ms   p90 {p90:7.0f} ms   (n={len(ms)})")


def python_costs(steps: int) -> None:
    import ipyvuetify as v
    import solara

    from viz import page as app

    model = app.PageModel(**app.initial_kwargs())
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


def browser_costs(steps: int, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(ROOT / "tests"))
    from test_app_browser import CHROMIUM, CHROMIUM_ARGS, PICTURE, free_port

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "viz", "--port", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        t0 = time.monotonic()
        while True:
            try:
                urllib.request.urlopen(url, timeout=5).close()
                break
            except OSError:
                if time.monotonic() - t0 > 300:
                    raise SystemExit("server did not start") from None
                time.sleep(1)
        print(f"server ready after {time.monotonic() - t0:.0f} s")
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1600, "height": 1300})
            page.set_default_timeout(120_000)
            t = time.monotonic()
            page.goto(url)
            page.locator('[data-view="network"] canvas').wait_for()
            page.wait_for_timeout(1000)
            print(f"page loaded in {time.monotonic() - t:.1f} s")
            times = []
            for k in range(1, steps + 1):
                before = page.evaluate(PICTURE, "adoption")
                t = time.perf_counter()
                page.get_by_role("button", name="Step").click()
                page.locator(".run-quarter", has_text=str(k)).wait_for()
                page.wait_for_function(f"(old) => ({PICTURE})('adoption') !== old", arg=before)
                times.append(time.perf_counter() - t)
            summary("page step (browser, click to redraw)", times)
            out.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=out / "page0.png", full_page=True)
            page.get_by_role("tab", name="Page 1").click()
            page.locator("table.followed").wait_for()
            page.wait_for_timeout(1000)
            page.screenshot(path=out / "page1.png", full_page=True)
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
    parser.add_argument("--out", type=Path, default=Path("bench_viz_out"))
    parser.add_argument("--no-browser", action="store_true")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    python_costs(args.steps)
    if not args.no_browser:
        browser_costs(args.steps, args.out)


if __name__ == "__main__":
    main()
