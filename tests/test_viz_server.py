"""The page's server without a browser: the cap on live models and their release
(viz/registry.py), the worker processes shared in turn and cancelled (viz/workers.py), and the
command that owns the server's processes (cli/viz.py, viz/lifecycle.py), with real processes
and real signals. tests/test_app_browser.py drives the same through `crypto401k viz`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import psutil
import pytest
from typer.testing import CliRunner

from cli import viz as viz_cli
from cli.main import app as cli_app
from viz import registry as R
from viz import workers

ROOT = Path(__file__).resolve().parent.parent


def gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def wait_until(check, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if check():
            return True
        time.sleep(0.05)
    return check()


# --- 3. the cap on live models, idle release, release on close
class FakeJob:
    def __init__(self):
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


def test_the_cap_refuses_a_new_run_plainly_and_a_pages_own_run_does_not_count(monkeypatch):
    monkeypatch.setenv("CRYPTO401K_VIZ_MAX_RUNS", "2")
    reg = R.Registry()
    a, b, c = (reg.open(f"k{i}") for i in range(3))
    reg.make(a, object)
    reg.make(b, object)
    assert reg.live() == 2
    reg.make(a, object)  # Reset on a page replaces its own run
    assert reg.live() == 2
    with pytest.raises(R.Full, match="limit of 2 page runs") as err:
        reg.make(c, object)
    assert "Try again" in str(err.value) and "--max-runs" in str(err.value)
    assert c.model is None and reg.live() == 2


def test_at_the_cap_the_run_idle_longest_is_released_for_a_new_page(monkeypatch):
    monkeypatch.setenv("CRYPTO401K_VIZ_MAX_RUNS", "2")
    monkeypatch.setattr(R, "EVICT_IDLE_S", 0.0)
    reg = R.Registry()
    a, b, c = (reg.open(f"k{i}") for i in range(3))
    told = []
    a.notify = told.append
    reg.make(a, object)
    reg.make(b, object)
    a.last_active -= 100  # a idle longest
    job = FakeJob()
    a.jobs.append(job)
    reg.make(c, object)
    assert a.model is None and a.released == "evicted" and job.cancelled
    assert b.model is not None and c.model is not None
    assert wait_until(lambda: told == ["evicted"], 5)


def test_idle_runs_are_released_and_closing_a_page_releases_its_run_and_cancels_its_work(monkeypatch):
    monkeypatch.setenv("CRYPTO401K_VIZ_IDLE_MINUTES", "1")
    reg = R.Registry()
    a, b = reg.open("ka"), reg.open("kb")
    told = []
    a.notify = told.append
    reg.make(a, object)
    reg.make(b, object)
    a.last_active -= 61
    assert reg.sweep() == 1
    assert a.model is None and a.released == "idle" and b.model is not None
    assert wait_until(lambda: told == ["idle"], 5)
    job = FakeJob()
    b.jobs.append(job)
    reg.close("kb")  # Solara's kernel hook when the page closes, reloads or is culled
    assert b.model is None and b.closed and job.cancelled and reg.live() == 0
    monkeypatch.setenv("CRYPTO401K_VIZ_IDLE_MINUTES", "not a number")
    assert R.idle_s() == 60 * R.DEFAULT_IDLE_MINUTES  # a bad setting is logged, the default used


def test_threads_the_server_keeps_belong_to_no_page():
    thread = R.detached(time.sleep, "test-detached", (0.01,))
    assert thread.current_context is None
    thread.join()


# --- 1. workers shared in turn, cancellable
@pytest.fixture(scope="module")
def dispatcher():
    d = workers.Dispatcher(1)
    yield d
    d.close()


def small(seed: int, quarters: int = 2, participants: int = 300) -> tuple:
    return ("baseline", seed, quarters, {"n_participants": participants, "n_employers": 10})


def test_pages_take_turns_in_the_workers_and_a_waiting_job_knows_what_is_ahead(dispatcher):
    warm = dispatcher.submit(job_of("warm", [small(0)]))
    assert wait_until(lambda: warm.over, 120), warm.status  # the worker has started
    a = job_of("page 1", [small(s, 12, 5000) for s in range(6)])  # long enough to see b overtake
    b = job_of("page 2", [small(s) for s in range(2)])
    dispatcher.submit(a)
    dispatcher.submit(b)
    ahead, pages = b.ahead()
    assert b.status == "waiting" and ahead >= 1 and pages == 1
    assert wait_until(lambda: b.over, 120) and b.status == "done" and len(b.results) == 2
    assert len(a.results) < 6  # b did not wait for all of a's runs
    assert wait_until(lambda: a.over, 120) and a.status == "done"
    table = a.results[("run", 3)]
    assert list(table["quarter"]) == list(range(13))


def test_a_cancelled_job_stops_its_running_run_at_the_next_quarter(dispatcher):
    big = [("baseline", s, 40, {"n_participants": 20_000, "n_employers": 200}) for s in range(4)]
    job = dispatcher.submit(job_of("page 3", big))
    assert wait_until(lambda: job.status == "running", 60)
    time.sleep(0.5)
    started = time.monotonic()
    job.cancel()
    assert job.status == "cancelled"
    assert wait_until(lambda: dispatcher.busy() == 0, 10), "a cancelled run kept its worker"
    assert time.monotonic() - started < 5
    after = dispatcher.submit(job_of("page 4", [small(1)]))
    assert wait_until(lambda: after.over, 60) and after.status == "done"  # the worker is free again


def job_of(owner: str, runs: list[tuple]) -> workers.Job:
    job = workers.Job(owner)
    job.runs = [workers.Run(job, ("run", i), args) for i, args in enumerate(runs)]
    return job


# --- 2. the command owns its processes
CHILD_IGNORING_SIGTERM = textwrap.dedent(
    """
    import signal, subprocess, sys, time
    grandchild = subprocess.Popen([sys.executable, "-c",
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"])
    print(grandchild.pid, flush=True)
    time.sleep(600)
    """
)


def test_stopping_the_server_stops_its_whole_process_group_even_what_ignores_sigterm():
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD_IGNORING_SIGTERM],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    grandchild = int(proc.stdout.readline())
    started = time.monotonic()
    viz_cli.stop_group(proc, grace=1.0)
    assert gone(proc.pid) and wait_until(lambda: gone(grandchild), 2)
    assert time.monotonic() - started < 4


def test_sigterm_to_the_command_stops_the_server_it_started(tmp_path):
    pidfile = tmp_path / "server.pid"
    server = [
        sys.executable,
        "-c",
        f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(600)",
    ]
    threading.Timer(1.5, os.kill, (os.getpid(), signal.SIGTERM)).start()
    before = signal.getsignal(signal.SIGTERM)
    code = viz_cli.serve(server, dict(os.environ))
    assert code == 0
    assert signal.getsignal(signal.SIGTERM) is before  # this process's own handler is back
    assert gone(int(pidfile.read_text()))


def test_the_server_stops_itself_when_the_command_is_killed_outright(tmp_path):
    """SIGKILL cannot be caught: the server notices it has another parent and stops."""
    pidfile = tmp_path / "server.pid"
    server = textwrap.dedent(
        f"""
        import os, sys, time
        sys.path.insert(0, {str(ROOT)!r})
        from viz import lifecycle
        assert lifecycle.watch_parent()
        open({str(pidfile)!r}, "w").write(str(os.getpid()))
        time.sleep(600)
        """
    )
    command = textwrap.dedent(
        f"""
        import os, subprocess, sys, time
        env = dict(os.environ, CRYPTO401K_VIZ_PARENT=str(os.getpid()))
        subprocess.Popen([sys.executable, "-c", {server!r}], env=env)
        time.sleep(600)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", command])
    assert wait_until(lambda: pidfile.exists() and pidfile.read_text(), 60)
    child = int(pidfile.read_text())
    parent.kill()
    parent.wait()
    assert wait_until(lambda: gone(child), 10)


def test_the_viz_options_are_checked_and_passed_to_the_server(monkeypatch):
    calls = []
    monkeypatch.setattr(viz_cli, "serve", lambda cmd, env: calls.append(env) or 0)
    result = CliRunner().invoke(cli_app, ["viz", "--max-runs", "4", "--idle-minutes", "2.5"])
    assert result.exit_code == 0, result.output
    env = calls[0]
    assert env["CRYPTO401K_VIZ_MAX_RUNS"] == "4" and env["CRYPTO401K_VIZ_IDLE_MINUTES"] == "2.5"
    assert env["CRYPTO401K_VIZ_PARENT"] == str(os.getpid())
    for option, value, words in (("--max-runs", "0", "from 1 to 10000"), ("--idle-minutes", "0", "0.05")):
        result = CliRunner().invoke(cli_app, ["viz", option, value])
        assert result.exit_code == 2 and option in result.output and words in result.output
