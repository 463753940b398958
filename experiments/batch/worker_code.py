"""What a Dask worker runs to load the project's code that the client ships to it.

A shared cluster's workers (and scheduler) have the dependencies but not this project. The
client therefore sends, through the scheduler, only objects they can unpickle without it:

* `ShipCode`: a worker plugin carrying a wheel of the client's checkout. On every worker,
  present and future, it unpacks the wheel into the worker's own scratch folder (one folder per
  wheel digest) and puts that folder first on `sys.path`.
* `worker_environment`: what code and library versions a worker actually runs.
* `trampoline()`: a task function that names the real task (a project function, as
  'module:name') and carries the run as plain values (`RunSpec.to_plain`: settings, and the
  scenario with the content of every input file); only the worker imports the project, after
  the plugin has put the code in place, so the scheduler never has to, and no task names a
  file on the client.

The client registers this module with `cloudpickle.register_pickle_by_value`, so its objects
travel by value. Nothing here may import the project at module level, and the module imports
only the standard library and `distributed`. The one project module it names (in a string) is
`TASK_MODULE`, the batch engine's leaf: it never names the runner or the Dask engine, so the
engine's modules import one way (runner -> cluster -> worker_code, each -> task).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.metadata
import io
import os
import platform
import shutil
import socket
import sys
import zipfile

from distributed.diagnostics.plugin import WorkerPlugin

PLUGIN_NAME = "crypto401k-code"
CODE_FOLDER = "crypto401k-code"  # inside each worker's local (scratch) directory
PACKAGES = ("model", "agents", "experiments", "cli", "viz", "crypto401k")  # the wheel's top-level packages
TASK_MODULE = "experiments.batch.task"  # code_version() and the tasks a worker runs
# Every library whose version can change a run's numbers: a worker with another version would
# not reproduce a local run, so the client refuses it like a different model version, naming
# the first that differs. numpy draws every random number and does the arithmetic; scipy's root
# finder sets the clearing price; networkx builds the social network from its seed; mesa runs the
# schedule and the data collection; pandas (and pyarrow, its string and Parquet engine) build
# the tables. A part that adds such a library adds it here (e.g. "pyabc" for the sampler that
# proposes parameters).
NUMERIC_LIBRARIES = ("numpy", "scipy", "networkx", "mesa", "pandas", "pyarrow")


class ShipCode(WorkerPlugin):
    """Unpacks the client's wheel on a worker and makes it the first place Python imports from."""

    name = PLUGIN_NAME

    def __init__(self, wheel: bytes, wheel_name: str):
        self.wheel = wheel
        self.wheel_name = wheel_name
        self.digest = hashlib.sha256(wheel).hexdigest()[:16]

    def setup(self, worker) -> None:
        base = os.path.join(worker.local_directory, CODE_FOLDER)
        target = os.path.join(base, self.digest)
        if not os.path.isdir(target):
            os.makedirs(base, exist_ok=True)
            tmp = f"{target}.tmp-{os.getpid()}"
            shutil.rmtree(tmp, ignore_errors=True)
            # a wheel is a zip of the packages as they sit in site-packages; zipfile refuses
            # absolute paths and '..' members, so nothing lands outside `tmp`
            with zipfile.ZipFile(io.BytesIO(self.wheel)) as archive:
                archive.extractall(tmp)
            try:
                os.replace(tmp, target)
            except OSError:  # another setup of the same wheel got there first
                shutil.rmtree(tmp, ignore_errors=True)
        if loaded_elsewhere(target):
            # Python cannot unload modules: a worker that already imported the project from
            # somewhere else keeps that code whole (never a mix of two versions), and the
            # client's version check refuses it if it differs
            return
        sys.path[:] = [p for p in sys.path if not p.startswith(base + os.sep)]
        sys.path.insert(0, target)
        importlib.invalidate_caches()


def loaded_elsewhere(folder: str) -> bool:
    """Whether this process has imported any of the project's packages from outside `folder`."""
    for name in PACKAGES:
        module = sys.modules.get(name)
        path = getattr(module, "__file__", None) if module is not None else None
        if path and not os.path.abspath(path).startswith(os.path.abspath(folder) + os.sep):
            return True
    return False


def worker_environment() -> dict:
    """This process's model code version, where the code was loaded from, Python and library versions."""
    env: dict = {
        "host": socket.gethostname(),
        "python": ".".join(platform.python_version_tuple()[:2]),
        "packages": {},
        "code_version": None,
        "loaded_from": None,
        "error": None,
    }
    for name in NUMERIC_LIBRARIES:
        try:
            env["packages"][name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            env["packages"][name] = None
    try:
        task = importlib.import_module(TASK_MODULE)
        env["code_version"] = task.code_version()
        env["loaded_from"] = os.path.dirname(os.path.dirname(os.path.dirname(task.__file__)))
    except Exception as exc:  # reported to the client, which refuses the worker
        env["error"] = f"{type(exc).__name__}: {exc}"
    return env


def trampoline():
    """A task function `call(function, payload)` that imports its target on the worker.

    `function` is a 'module:name' reference and `payload` plain values (str, numbers, bytes,
    lists, dicts), so the scheduler reads only names and plain data, and the worker imports the
    project (from the shipped wheel) when it runs the task. Made inside this function so that
    plain pickle cannot refer to it by name and Dask sends it by value (cloudpickle).
    """

    def call(function: str, payload: dict):
        import importlib

        module, _, name = function.partition(":")
        return getattr(importlib.import_module(module), name)(payload)

    return call
