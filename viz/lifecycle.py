"""The server process's own lifetime: it stops when the `crypto401k viz` command that started
it is gone, even if that command was killed outright (SIGKILL) and could not stop it.

`crypto401k viz` passes its process id in CRYPTO401K_VIZ_PARENT; a watcher thread here sends the
server SIGTERM (Solara's web server then closes every page's kernel, which releases the runs and
cancels their work) once this process has another parent, and ends it outright if that has not
stopped it within GRACE_S seconds. Without the variable (`solara run app.py`) nothing is watched.
"""

from __future__ import annotations

import os
import signal
import threading
import time

POLL_S = 0.5
GRACE_S = 5.0


def watch_parent() -> bool:
    """Start the watcher if a parent to watch was named; whether one was."""
    text = os.environ.get("CRYPTO401K_VIZ_PARENT", "")
    if not text.isdigit():
        return False
    thread = threading.Thread(target=_watch, args=(int(text),), daemon=True, name="crypto401k-watch-command")
    # Solara imports app.py inside the first page's kernel and binds new threads to it; a thread
    # bound to a page keeps that page (and its model) alive for as long as the thread runs
    thread.current_context = None  # type: ignore[attr-defined]
    thread.start()
    return True


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(POLL_S)
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(GRACE_S)
    os._exit(1)
