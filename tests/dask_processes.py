"""A Dask scheduler and workers as separate processes, in a virtual environment WITHOUT this project.

Used by tests/test_cluster.py and benchmarks/bench_cluster.py to stand in for a shared cluster:
the environment holds exactly the locked dependencies (`uv export --frozen --no-emit-project`),
and the processes run from a folder outside the checkout with no PYTHONPATH, so they can only
run the project's code if the client ships it.

The environment is built once per lock file and Python version into a stable temporary folder
(`$TMPDIR/crypto401k-worker-env-<digest>`; about 10 s from uv's cache) and reused by later runs.
Everything binds 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _uv() -> str:
    uv = os.environ.get("UV") or shutil.which("uv")
    if not uv:
        raise RuntimeError("uv is needed to build the worker environment (run through `uv run`)")
    return uv


def clean_env() -> dict[str, str]:
    """The environment of a process that must not see this checkout or its virtual environment."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")}
    venv_bin = str(Path(sys.prefix) / "bin")
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p != venv_bin)
    env["PYTHONNOUSERSITE"] = "1"
    return env


def worker_env() -> Path:
    """A virtual environment with the locked dependencies and not the project; its folder."""
    digest = hashlib.sha256((ROOT / "uv.lock").read_bytes() + sys.version.encode()).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / f"crypto401k-worker-env-{digest}"
    done = target / ".complete"
    if done.exists():
        return target
    with open(f"{target}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another test process may be building it
        if done.exists():
            return target
        shutil.rmtree(target, ignore_errors=True)
        uv = _uv()
        req = Path(tempfile.mkdtemp(prefix="crypto401k-req-")) / "requirements.txt"
        subprocess.run(
            [
                uv,
                "export",
                "--frozen",
                "--no-hashes",
                "--no-dev",
                "--no-emit-project",
                "--no-header",
                "--no-annotate",
                "--quiet",
                "-o",
                str(req),
            ],
            cwd=ROOT,
            check=True,
        )
        # a venv's scripts hold absolute paths: build it in place and mark it complete at the end
        subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(target)], check=True)
        subprocess.run(
            [uv, "pip", "install", "--quiet", "--python", str(target / "bin" / "python"), "-r", str(req)],
            check=True,
            env=clean_env(),
        )
        shutil.rmtree(req.parent, ignore_errors=True)
        done.write_text("ok\n")
    return target


class DaskProcesses:
    """`dask scheduler` and `dask worker` processes from `venv`, run in the folder `cwd`.

    Each process runs in its own session so it can be killed with its children (a worker's
    nanny and worker process). `stop()` ends them all; use as a context manager.
    """

    def __init__(self, venv: Path, cwd: Path):
        self.venv, self.cwd = venv, cwd
        self.dask = str(venv / "bin" / "dask")
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.address = ""
        self.cwd.mkdir(parents=True, exist_ok=True)

    def _spawn(self, args: list[str], log: str, env: dict[str, str] | None = None) -> subprocess.Popen:
        out = open(self.cwd / log, "w")  # noqa: SIM115 (closed with the process in stop())
        proc = subprocess.Popen(
            [self.dask, *args],
            cwd=self.cwd,
            env={**clean_env(), **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        proc.log = out  # type: ignore[attr-defined]
        return proc

    def start_scheduler(self, timeout: float = 60) -> str:
        info = self.cwd / "scheduler.json"
        info.unlink(missing_ok=True)
        self.scheduler = self._spawn(
            [
                "scheduler",
                "--host",
                "127.0.0.1",
                "--port",
                "0",
                "--no-dashboard",
                "--scheduler-file",
                str(info),
            ],
            "scheduler.log",
        )
        deadline = time.time() + timeout
        while time.time() < deadline:
            if info.exists():
                try:
                    self.address = json.loads(info.read_text())["address"]
                    return self.address
                except (ValueError, KeyError):
                    pass
            if self.scheduler.poll() is not None:
                break
            time.sleep(0.1)
        raise RuntimeError(f"the scheduler did not start: {(self.cwd / 'scheduler.log').read_text()[-2000:]}")

    def start_workers(self, n: int, timeout: float = 90, env: dict[str, str] | None = None) -> None:
        """Start n single-threaded workers (each its own `dask worker` with a nanny) and wait for them.

        env: environment variables added for these workers (e.g. PYTHONPATH to change what they see).
        """
        from distributed import Client

        for _ in range(n):
            i = len(self.workers)
            self.workers.append(
                self._spawn(
                    [
                        "worker",
                        self.address,
                        "--host",
                        "127.0.0.1",
                        "--nthreads",
                        "1",
                        "--no-dashboard",
                        "--local-directory",
                        str(self.cwd / f"worker-{i}"),
                    ],
                    f"worker-{i}.log",
                    env,
                )
            )
        with Client(self.address, timeout="20s") as client:
            client.wait_for_workers(len(self.alive_workers()), timeout=timeout)

    def alive_workers(self) -> list[subprocess.Popen]:
        return [w for w in self.workers if w.poll() is None]

    def kill_worker(self, i: int) -> None:
        """SIGKILL worker i with its nanny (the whole process group): no clean shutdown."""
        os.killpg(self.workers[i].pid, signal.SIGKILL)
        self.workers[i].wait(timeout=30)

    def stop(self) -> None:
        for proc in [*self.workers, *([self.scheduler] if self.scheduler else [])]:
            if proc.poll() is None:
                try:
                    os.killpg(proc.pid, signal.SIGTERM)
                    proc.wait(timeout=20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
            proc.log.close()  # type: ignore[attr-defined]

    def __enter__(self) -> DaskProcesses:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()
