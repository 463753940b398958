"""Every page's run in the server: a declared cap on live models, release of idle ones, and
release when a page closes, so a server shared by a team does not grow without bound.

A page's model holds about 70 MB at the default size (100,000 participants). The server keeps
at most `max_runs()` of them (CRYPTO401K_VIZ_MAX_RUNS, default 12; `crypto401k viz --max-runs`).
A page that asks for one when all are taken gets the run idle longest, if it has been idle
`EVICT_IDLE_S` or more (that page is told its run was released and can restore it from its
address); otherwise it is told plainly that the server is full, and why, and can retry.

A run is released:
* when its page closes or reloads, or its browser disconnects and Solara culls the kernel
  (SOLARA_KERNEL_CULL_TIMEOUT, which `crypto401k viz` sets to 5 minutes): Solara's kernel
  lifecycle hook (`solara.lab.on_kernel_start`) runs the release;
* when nobody has used it for `idle_s()` (CRYPTO401K_VIZ_IDLE_MINUTES, default 30;
  `crypto401k viz --idle-minutes`), checked by one janitor thread (Solara has no hook for an
  open but unused page); the page then offers to restore the run from its address;
* at the cap, as above.
Releasing also cancels the page's work in the worker processes (viz/workers.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import itertools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import solara
import solara.lab

log = logging.getLogger("crypto401k.viz")

DEFAULT_MAX_RUNS = 12
DEFAULT_IDLE_MINUTES = 30.0
EVICT_IDLE_S = 300.0  # at the cap, a run idle this long may be released for a new page
MODEL_MB = 70  # a model of the default size, for the messages (benchmarks/memory_per_participant.py)


def _env_number(name: str, default: float, low: float) -> float:
    """A setting from the environment; a bad value is logged and the default used (the
    command line has checked it already; this guards `solara run app.py`)."""
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        value = float(text)
        if value < low:
            raise ValueError
        return value
    except ValueError:
        log.warning("%s=%r is not a number of at least %g; using %g", name, text, low, default)
        return default


def max_runs() -> int:
    """The cap on live page models (at least 1)."""
    return int(_env_number("CRYPTO401K_VIZ_MAX_RUNS", DEFAULT_MAX_RUNS, 1))


def idle_s() -> float:
    """Seconds without use after which a page's model is released."""
    return 60.0 * _env_number("CRYPTO401K_VIZ_IDLE_MINUTES", DEFAULT_IDLE_MINUTES, 0.05)


def detached(target: Callable, name: str, args: tuple = ()) -> threading.Thread:
    """A started daemon thread that belongs to no page. Solara binds every thread to the page
    (kernel) it is created in, and a thread that outlives its page keeps the page's whole
    widget tree, and its model, alive; threads the server keeps must be unbound."""
    thread = threading.Thread(target=target, args=args, daemon=True, name=name)
    thread.current_context = None  # type: ignore[attr-defined]  (what Solara's own gc thread does)
    thread.start()
    return thread


class Full(Exception):
    """No model can be made now: the message says why and what to do."""


_ids = itertools.count(1)


@dataclass(eq=False)
class Session:
    """One page (a Solara virtual kernel) and the model it runs, if any."""

    kernel: str
    model: Any = None  # viz.session.PageModel
    last_active: float = field(default_factory=time.monotonic)
    jobs: list = field(default_factory=list)  # viz.workers.Job, cancelled on release
    released: str = ""  # why the model was released: "idle", "evicted" (empty while it runs)
    closed: bool = False
    notify: Callable[[str], None] | None = None  # tells the page its model was released
    reserved: bool = False  # a model is being built for it
    number: int = field(default_factory=lambda: next(_ids))
    address: Any = None  # viz.sharing.Address of the run shown (restored from after a release)

    def touch(self) -> None:
        self.last_active = time.monotonic()

    @property
    def idle(self) -> float:
        return time.monotonic() - self.last_active

    def holds(self) -> bool:
        return self.model is not None or self.reserved


class Registry:
    """The sessions of this server process and their models."""

    def __init__(self):
        self.lock = threading.RLock()
        self.sessions: dict[int, Session] = {}
        self.janitor: threading.Thread | None = None
        self.wake = threading.Event()

    def open(self, kernel: str) -> Session:
        """A new session for a page rendered in kernel `kernel`."""
        with self.lock:
            s = Session(kernel)
            self.sessions[s.number] = s
            self._start_janitor()
            return s

    def live(self) -> int:
        """Models held (or being built) for pages now."""
        with self.lock:
            return sum(s.holds() for s in self.sessions.values())

    def make(self, session: Session, build: Callable[[], Any]) -> Any:
        """A model for `session` from `build()`, within the cap (its old model, if any, is
        replaced and does not count); raises Full when the cap is reached and no run has been
        idle long enough to be released."""
        with self.lock:
            others = [s for s in self.sessions.values() if s is not session and s.holds()]
            if len(others) >= max_runs():
                idle = [s for s in others if s.model is not None and s.idle >= EVICT_IDLE_S]
                if not idle:
                    raise Full(
                        f"The server runs its limit of {max_runs()} page runs (about {MODEL_MB} MB each at "
                        "100,000 participants), all in use in the last "
                        f"{EVICT_IDLE_S / 60:.0f} minutes. Try again in a few minutes, or ask whoever "
                        "runs the server to raise it (crypto401k viz --max-runs N)."
                    )
                self._release(max(idle, key=lambda s: s.idle), "evicted")
            old, session.model, session.reserved = session.model, None, True
        self._cancel_jobs(session)
        del old
        try:
            model = build()
        finally:
            with self.lock:
                session.reserved = False
        with self.lock:
            if session.closed:  # the page went away while its model was built
                return model
            session.model, session.released = model, ""
            session.touch()
        return model

    def release(self, session: Session, reason: str) -> None:
        with self.lock:
            self._release(session, reason)

    def _release(self, session: Session, reason: str) -> None:
        if session.model is None:
            return
        session.model, session.released = None, reason
        log.info("released the run of page %s (%s)", session.number, reason)
        self._cancel_jobs(session)
        if session.notify is not None and not session.closed:
            detached(session.notify, "crypto401k-notify", (reason,))
        _free_memory_soon()

    @staticmethod
    def _cancel_jobs(session: Session) -> None:
        for job in list(session.jobs):
            job.cancel()
        session.jobs.clear()

    def close(self, kernel: str) -> None:
        """Kernel `kernel` is closing (tab closed or reloaded, culled, server stopping): its
        pages' models are released and their work cancelled."""
        with self.lock:
            for s in [s for s in self.sessions.values() if s.kernel == kernel]:
                del self.sessions[s.number]
                s.closed = True
                s.notify = None
                self._release(s, "closed")
                self._cancel_jobs(s)

    # --- the janitor: idle pages' models
    def _start_janitor(self) -> None:
        if self.janitor is None:
            self.janitor = detached(self._sweep_forever, "crypto401k-janitor")

    def sweep(self) -> int:
        """Release every model idle longer than idle_s(); how many were released."""
        limit = idle_s()
        with self.lock:
            idle = [s for s in self.sessions.values() if s.model is not None and s.idle >= limit]
            for s in idle:
                self._release(s, "idle")
            return len(idle)

    def _sweep_forever(self) -> None:
        while True:
            self.wake.wait(min(60.0, max(1.0, idle_s() / 4)))
            self.wake.clear()
            try:
                self.sweep()
            except Exception:  # the janitor must outlive a bad sweep
                log.exception("sweeping idle page runs failed")


registry = Registry()

_free_lock = threading.Lock()
_free_pending = False


def _free_memory_soon(delay: float = 1.5) -> None:
    """Collect garbage after a release and hand freed memory back to the system.

    A released model is a web of cycles (agents, the model and Mesa's registries) that only
    the cycle collector frees, after the page's views let it go; glibc then keeps the freed
    heap unless asked to trim it.
    """
    global _free_pending
    with _free_lock:
        if _free_pending:
            return
        _free_pending = True

    def run():
        global _free_pending
        time.sleep(delay)
        with _free_lock:
            _free_pending = False
        gc.collect()
        with contextlib.suppress(OSError, AttributeError):  # not glibc: memory is reused, not returned
            ctypes.CDLL("libc.so.6").malloc_trim(0)

    detached(run, "crypto401k-free-memory")


def _kernel_started():
    """Solara's hook at every new kernel: its cleanup releases the kernel's page run."""
    try:
        kernel = solara.get_kernel_id()
    except RuntimeError:
        return None
    return lambda: registry.close(kernel)


solara.lab.on_kernel_start(_kernel_started)
