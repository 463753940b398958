"""`crypto401k viz`: serve the browser page (app.py: viz/page.py, a Solara page on the Mesa model).

The server listens on 127.0.0.1 unless --host says otherwise, loads every script and style from
the installed solara-assets (no CDN), and sends no telemetry, so the page works offline.

The command owns everything it starts. The server runs in a process group of its own, with its
worker processes and multiprocessing's resource tracker; SIGTERM, SIGHUP or Ctrl-C to the
command stop the server (SIGTERM to the group), and whatever of the group is still alive
`GRACE_S` seconds later is killed, so the port is free and nothing keeps computing. Killed
outright (SIGKILL), the command cannot do this; the server then notices it is orphaned and stops
itself (viz/lifecycle.py), and its workers follow (viz/workers.py).
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from cli.console import say, user_errors
from model.errors import InputError

APP = Path(__file__).resolve().parent.parent / "app.py"
DEFAULT_PORT = 8765  # Solara's own default port

# Solara settings for a private, offline server (read from the environment at server start).
OFFLINE_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",  # no usage reports to the internet
    "SOLARA_THEME_SHOW_BANNER": "False",  # no "This website runs on Solara" banner
}
# Defaults the caller's environment may override: a page whose browser disconnected without
# closing it keeps its session (and its model, ~70 MB at the default size) 5 minutes for a
# reconnect rather than Solara's 24 hours; after that a reload rebuilds the run from its address.
SESSION_ENV = {"SOLARA_KERNEL_CULL_TIMEOUT": "5m"}
GRACE_S = 5.0  # seconds the server has to stop after SIGTERM before its process group is killed
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def server_command(port: int, host: str, open_browser: bool = False) -> list[str]:
    """The `solara run` command line that serves app.py on host:port in production mode."""
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(APP),
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--open" if open_browser else "--no-open",
        "--log-level",
        "warning",
    ]


def server_env(
    base: dict[str, str] | None = None, max_runs: int | None = None, idle_minutes: float | None = None
) -> dict[str, str]:
    """The environment for the server: the caller's, with the offline settings, the page runs'
    cap and idle time (viz/registry.py) when given, and this command's process id (the server
    stops itself when this command is gone)."""
    env = {**SESSION_ENV, **dict(os.environ if base is None else base)}
    env.update(OFFLINE_ENV)
    if max_runs is not None:
        env["CRYPTO401K_VIZ_MAX_RUNS"] = str(max_runs)
    if idle_minutes is not None:
        env["CRYPTO401K_VIZ_IDLE_MINUTES"] = f"{idle_minutes:g}"
    env["CRYPTO401K_VIZ_PARENT"] = str(os.getpid())
    return env


def check_port(port: int) -> int:
    """The port, or an InputError naming the allowed range (0 asks for any free port)."""
    if not 0 <= port <= 65535:
        raise InputError(f"{port} is out of range", key="--port", allowed="an integer from 0 to 65535")
    return port


def check_max_runs(n: int | None) -> int | None:
    if n is not None and not 1 <= n <= 10_000:
        raise InputError(f"{n} is out of range", key="--max-runs", allowed="an integer from 1 to 10000")
    return n


def check_idle_minutes(minutes: float | None) -> float | None:
    if minutes is not None and not 0.05 <= minutes <= 10_080:
        raise InputError(
            f"{minutes:g} is out of range",
            key="--idle-minutes",
            allowed="a number from 0.05 to 10080 (a week)",
        )
    return minutes


def group_members(pgid: int) -> list[int]:
    """The processes of group `pgid` that still run (zombies waiting to be reaped do not)."""
    import psutil

    out = []
    for p in psutil.process_iter(["status"]):
        try:
            if os.getpgid(p.pid) == pgid and p.info["status"] != psutil.STATUS_ZOMBIE:
                out.append(p.pid)
        except (ProcessLookupError, psutil.Error):
            continue
    return out


def stop_group(proc: subprocess.Popen, grace: float = GRACE_S) -> None:
    """Stop the server and everything in its process group: SIGTERM, then SIGKILL after `grace` s."""
    pgid = proc.pid  # the server leads its own session, so its group id is its process id
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if proc.poll() is not None and not group_members(pgid):
            return
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
    proc.wait()


def serve(command: list[str], env: dict[str, str]) -> int:
    """Run the server until it ends or this command is asked to stop; then stop its whole group.

    Returns the server's exit status, or 0 when the stop was asked for.
    """
    asked: list[int] = []

    def on_signal(signum, _frame) -> None:
        asked.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in STOP_SIGNALS}
    proc = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        while proc.poll() is None and not asked:
            time.sleep(0.1)
    finally:
        stop_group(proc)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0 if asked else proc.returncode


def viz(
    port: Annotated[
        int, typer.Option(metavar="N", help="Port to serve on (0: any free port).")
    ] = DEFAULT_PORT,
    host: Annotated[
        str,
        typer.Option(metavar="ADDRESS", help="Address to listen on; 0.0.0.0 shares the page on the network."),
    ] = "127.0.0.1",
    open_browser: Annotated[
        bool, typer.Option("--open", help="Open the page in the default browser.")
    ] = False,
    max_runs: Annotated[
        int | None,
        typer.Option(
            metavar="N",
            help="Most page runs the server keeps at once (each ~70 MB at 100,000 participants; default 12).",
        ),
    ] = None,
    idle_minutes: Annotated[
        float | None,
        typer.Option(
            metavar="MINUTES", help="Release a page's run after this long without use (default 30)."
        ),
    ] = None,
) -> None:
    """Serve the interactive browser page at http://HOST:PORT (docs/guide/viz.md)."""
    with user_errors():
        check_port(port)
        check_max_runs(max_runs)
        check_idle_minutes(idle_minutes)
        if not APP.is_file():
            raise InputError(
                "the browser page is missing",
                source=str(APP),
                allowed="run from a checkout of the crypto401k repository",
            )
    say(f"crypto401k page: http://{host}:{port}  (Ctrl-C stops the server)")
    code = serve(server_command(port, host, open_browser), server_env(None, max_runs, idle_minutes))
    raise typer.Exit(code)
