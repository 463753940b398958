"""`crypto401k viz`: serve the browser page (app.py: viz/page.py, a Solara page on the Mesa model).

The server listens on 127.0.0.1 unless --host says otherwise, loads every script and style from
the installed solara-assets (no CDN), and sends no telemetry, so the page works offline.
"""

from __future__ import annotations

import os
import subprocess
import sys
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
# Defaults the caller's environment may override: a closed tab's session (and its model, ~70 MB
# at the default size) is kept 30 minutes for a reconnect rather than Solara's 24 hours.
SESSION_ENV = {"SOLARA_KERNEL_CULL_TIMEOUT": "30m"}


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


def server_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for the server: the caller's, with the offline settings added."""
    env = {**SESSION_ENV, **dict(os.environ if base is None else base)}
    env.update(OFFLINE_ENV)
    return env


def check_port(port: int) -> int:
    """The port, or an InputError naming the allowed range (0 asks for any free port)."""
    if not 0 <= port <= 65535:
        raise InputError(f"{port} is out of range", key="--port", allowed="an integer from 0 to 65535")
    return port


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
) -> None:
    """Serve the interactive browser page at http://HOST:PORT (docs/guide/viz.md)."""
    with user_errors():
        check_port(port)
        if not APP.is_file():
            raise InputError(
                "the browser page is missing",
                source=str(APP),
                allowed="run from a checkout of the crypto401k repository",
            )
    say(f"crypto401k page: http://{host}:{port}  (Ctrl-C stops the server)")
    try:
        code = subprocess.call(server_command(port, host, open_browser), env=server_env())
    except KeyboardInterrupt:
        code = 0
    raise typer.Exit(code)
