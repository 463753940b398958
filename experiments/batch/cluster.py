"""Running a batch on a Dask cluster whose workers do not have this project.

`DaskEngine` connects to a running `dask.distributed` scheduler, ships the project's code to the
workers and checks it before any run is submitted:

1. A wheel of the checkout is built (`uv build --wheel`, about half a second; cached per
   process by the digest of the source files) and registered as a worker plugin
   (`worker_code.ShipCode`): every worker, including one that joins later (a restarted or
   added worker), unpacks it into its scratch folder and imports the project from there.
2. Every worker reports its model code version (`task.code_version()`, the fingerprint
   stored with each run), Python version and the versions of every library that can change a
   run's numbers (`worker_code.NUMERIC_LIBRARIES`). Any difference from the client refuses
   the batch with one line naming a differing worker and the first thing that differs, e.g.
   a worker that imported another version of the code for an earlier batch (Python cannot
   unload it: restart the workers) or one with another scipy.
3. Tasks name the project function and carry the run as plain values
   (`worker_code.trampoline`, `RunSpec.to_plain`), the content of its scenario and data files
   included: only a worker imports the project, so the scheduler does not need it either, and
   no worker needs the client's files. Each finished run's record carries the code
   version it ran with; a run from a worker with other code is recorded as failed (and
   retried by the next call) instead of being stored.

Where the code is not a checkout (the project installed from a wheel), nothing is built: the
workers must then have the same version installed, which step 2 checks.
"""

from __future__ import annotations

import functools
import hashlib
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

from experiments.batch import task, worker_code
from model.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = worker_code.PACKAGES  # as in pyproject's wheel target
BUILD_TIMEOUT_S = 300
ALLOWED = "the address of a running scheduler, e.g. tcp://host:8786"


def _source_digest(root: Path) -> str:
    """A digest of every file that goes into the wheel (so an edited checkout is rebuilt)."""
    digest = hashlib.sha256()
    files = [root / "pyproject.toml", root / "README.md"]
    for pkg in PACKAGES:
        files += [
            f
            for f in (root / pkg).rglob("*")
            if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc"
        ]
    for f in sorted(files):
        if f.is_file():
            digest.update(f.relative_to(root).as_posix().encode())
            digest.update(f.read_bytes())
    return digest.hexdigest()


def is_checkout(root: Path = ROOT) -> bool:
    """Whether the code runs from a source checkout of this project (which can be built)."""
    pyproject = root / "pyproject.toml"
    return pyproject.is_file() and 'name = "crypto401k"' in pyproject.read_text(encoding="utf-8")


def project_wheel(root: Path = ROOT) -> tuple[bytes, str]:
    """The wheel of the checkout at `root` as (bytes, file name), built with `uv build --wheel`.

    Raises InputError (one line) when uv is missing or the build fails.
    """
    return _build_wheel(str(root), _source_digest(root))


@functools.lru_cache(maxsize=4)
def _build_wheel(root: str, digest: str) -> tuple[bytes, str]:
    uv = os.environ.get("UV") or shutil.which("uv")  # `uv run` sets UV to its own executable
    if not uv:
        raise InputError(
            "cannot build a wheel of this checkout to ship to the Dask workers: uv is not on PATH",
            key="--dask",
            allowed="run the command through `uv run`, or install crypto401k on the workers",
        )
    with tempfile.TemporaryDirectory(prefix="crypto401k-wheel-") as out:
        try:
            proc = subprocess.run(
                [uv, "build", "--wheel", "--quiet", "--out-dir", out, root],
                capture_output=True,
                text=True,
                timeout=BUILD_TIMEOUT_S,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            proc = None
            reason = str(exc)
        if proc is not None:
            reason = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        wheels = sorted(Path(out).glob("*.whl"))
        if proc is None or proc.returncode != 0 or not wheels:
            raise InputError(
                f"cannot build a wheel of this checkout to ship to the Dask workers ({reason})",
                key="--dask",
                allowed="a checkout that `uv build --wheel` can build",
            )
        return wheels[0].read_bytes(), wheels[0].name


def client_environment(code_version: str) -> dict:
    """The client's side of the comparison made with `worker_code.worker_environment`."""
    import importlib.metadata

    packages = {}
    for name in worker_code.NUMERIC_LIBRARIES:
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            packages[name] = None
    return {
        "code_version": code_version,
        "python": ".".join(platform.python_version_tuple()[:2]),
        "packages": packages,
    }


def mismatches(mine: dict, theirs: dict[str, Any]) -> list[str]:
    """Per worker that differs from the client: 'ADDRESS: the first thing that differs' (the
    code, then Python, then the libraries in NUMERIC_LIBRARIES order); empty when all agree."""
    out = []
    for address, env in sorted(theirs.items()):
        if isinstance(env, BaseException):
            out.append(f"{address}: cannot report its code ({type(env).__name__}: {env})")
            continue
        if env.get("error"):
            out.append(f"{address}: cannot import the shipped code ({env['error']})")
            continue
        diffs = []
        if env["code_version"] != mine["code_version"]:
            diffs.append(
                f"model code {env['code_version']} (loaded from {env['loaded_from']})"
                f" but this checkout is {mine['code_version']}"
            )
        if env["python"] != mine["python"]:
            diffs.append(f"Python {env['python']} but the client runs {mine['python']}")
        for name, version in mine["packages"].items():
            theirs_version = env["packages"].get(name)
            if theirs_version != version:
                diffs.append(
                    f"{name} {theirs_version or 'not installed'} but the client has {version or 'none'}"
                )
        if diffs:
            out.append(f"{address}: {diffs[0]}")
    return out


def _ref(obj) -> str:
    """'module:name' of a module-level function or class (what a worker imports)."""
    return f"{obj.__module__}:{obj.__qualname__}"


CONNECT_TIMEOUT = "20s"  # how long to try reaching a --dask scheduler before giving up


class DaskEngine:
    """A running dask.distributed scheduler at `address`, its workers given this checkout's code.

    Each RunSpec runs as `task.run_plain(spec.to_plain())` on a worker; a record made with
    another code version than the client's (`task.code_version()`) is refused.
    """

    def __init__(self, address: str):
        from distributed import Client

        try:
            self.client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError, ValueError) as exc:
            raise InputError(
                f"cannot reach the Dask scheduler ({exc})", key="--dask", allowed=ALLOWED
            ) from None
        self.code_version = task.code_version()
        self.specs: dict[Any, Any] = {}
        self.call = worker_code.trampoline()
        try:
            self.ship_seconds = self._ship()
            self._check()
        except BaseException:
            self.client.close()
            raise
        workers = len(self.client.scheduler_info().get("workers", {}))
        self.name = f"dask ({address}, {workers} workers, code {self.code_version[:8]})"

    def _ship(self) -> float:
        """Register the code plugin on the scheduler (applied to every worker); seconds taken."""
        import cloudpickle

        if not is_checkout():
            return 0.0
        t0 = time.perf_counter()
        wheel, name = project_wheel()
        cloudpickle.register_pickle_by_value(worker_code)
        try:
            self.client.register_plugin(worker_code.ShipCode(wheel, name), name=worker_code.PLUGIN_NAME)
        except Exception as exc:
            raise InputError(
                f"a Dask worker could not unpack the shipped code ({type(exc).__name__}: {exc})",
                key="--dask",
                allowed="workers with a writable local directory",
            ) from None
        return time.perf_counter() - t0

    def _check(self) -> None:
        """Refuse (InputError) when any worker runs other code or library versions than the client."""
        theirs = self.client.run(worker_code.worker_environment, on_error="return")
        bad = mismatches(client_environment(self.code_version), theirs)
        if bad:
            more = f" (and {len(bad) - 1} more)" if len(bad) > 1 else ""
            raise InputError(
                f"{len(bad)} of {len(theirs)} Dask workers differ from this checkout: {bad[0]}{more}",
                key="--dask",
                allowed="workers on the client's code and library versions (restart workers"
                " that ran another version of the code)",
            )

    def submit(self, spec) -> Any:
        future = self.client.submit(self.call, _ref(task.run_plain), spec.for_worker().to_plain(), pure=False)
        self.specs[future] = spec
        return future

    def wait(self, handles: list, timeout: float) -> list[tuple[Any, tuple]]:
        from distributed import wait

        try:
            done, _ = wait(handles, timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return []
        out = []
        for future in done:
            spec = self.specs.pop(future)
            try:
                frame, record = future.result()
            except Exception as exc:  # e.g. the task was lost with too many workers: record, go on
                out.append(
                    (future, (None, task.failure_record(spec, f"{type(exc).__name__} on Dask: {exc}")))
                )
                continue
            if record.get("code_version") != self.code_version:
                error = (
                    f"ran on {record.get('worker')} with model code {record.get('code_version')},"
                    f" not this checkout's {self.code_version}; restart that worker"
                )
                out.append((future, (None, {**record, "status": "failed", "error": error})))
                continue
            out.append((future, (frame, record)))
        return out

    def close(self, cancel: bool = False) -> None:
        if cancel and self.specs:
            self.client.cancel(list(self.specs))
        self.client.close()
