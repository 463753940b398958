"""The batch store: a folder of Parquet files that grows as runs finish and survives any crash.

Layout of a store folder (`--out DIR`)::

    DIR/runs/<stem>.parquet        per-quarter rows of one completed run or a small group
    DIR/catalogue/<stem>.parquet   one row per run of that group (status "ok")
    DIR/catalogue/failed-<key>.parquet   the record of a run that raised (status "failed")
    DIR/inputs/<sha256>.parquet    one input file the runs read (name, role, digest, content),
                                   written once per distinct content before any run using it
    DIR/quarantine/                damaged files moved aside on resume (never read again)
    DIR/.batch.lock                held by the one batch process writing to the folder

Every catalogue row names its run's input files (`inputs_json`: role, name and SHA-256 of
each, in order) and their combined digest (`inputs_digest`, part of the run's identity; see
model/inputs.py). Stores written before input files were recorded (crypto401k 0.2.0) lack both
columns and the inputs/ folder: they read as before, with the columns empty.

Why it is crash-safe: every file is written to a hidden temporary name, flushed to disk and
renamed into place, so a file either exists whole or not at all. A group's results file is
renamed before its catalogue file, and a run counts as done only when its catalogue row exists
and its results file reads back with the right number of rows (Parquet page checksums on).
So after a crash, Ctrl-C or SIGKILL at any moment, `scan` finds at worst a results file
without a catalogue entry (deleted: those runs are redone) or a file damaged by a full disk
(moved to quarantine/: those runs are redone). Nothing completed is lost, nothing is counted
twice.

File names come from hashes of run ids, never from user text, and the store refuses
sub-folders that are links, so nothing is written outside `--out`.
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import socket
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from experiments.batch.spec import run_key
from model.errors import InputError
from model.inputs import InputFile

SUBDIRS = ("runs", "catalogue", "inputs", "quarantine")
LOCK_NAME = ".batch.lock"
CATALOGUE_COLUMNS = (
    "run_id",
    "scenario",
    "params_json",
    "seed",
    "quarters",
    "participants",
    "outputs_json",
    "status",
    "error",
    "traceback",
    "rows",
    "file",
    "started_at",
    "finished_at",
    "duration_s",
    "worker",
    "code_version",
    "inputs_digest",
    "inputs_json",
    "drawn_json",
)
INPUT_COLUMNS = ("digest", "role", "name", "size_bytes", "content")


# --- folder and lock
def prepare(out_dir: str | Path) -> Path:
    """The store folder, created with its sub-folders; an InputError if any is a file or a link."""
    root = Path(out_dir)
    if root.exists() and not root.is_dir():
        raise InputError("exists and is not a folder", source=str(root), key="--out")
    try:
        root.mkdir(parents=True, exist_ok=True)
        for sub in SUBDIRS:
            path = root / sub
            if path.is_symlink() or (path.exists() and not path.is_dir()):
                raise InputError(
                    f"'{sub}' inside the store is a link or a file; the store only"
                    " writes real folders inside --out",
                    source=str(root),
                    key="--out",
                )
            path.mkdir(exist_ok=True)
    except OSError as exc:
        raise InputError(
            f"cannot create the store folder ({exc.strerror})", source=str(root), key="--out"
        ) from None
    return root


class StoreLock:
    """An exclusive lock on a store folder (flock: released by the OS even after SIGKILL)."""

    def __init__(self, root: Path):
        self.path = root / LOCK_NAME
        self.fd: int | None = None

    def __enter__(self) -> StoreLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            raise InputError(
                f"cannot open the store lock ({exc.strerror})", source=str(self.path), key="--out"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip() or "another process"
            os.close(fd)
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise InputError(
                    f"another batch process ({holder}) is writing to this folder;"
                    " wait for it to finish or use another --out",
                    source=str(self.path.parent),
                    key="--out",
                ) from None
            raise
        os.ftruncate(fd, 0)
        os.pwrite(
            fd,
            f"pid {os.getpid()} on {socket.gethostname()} since "
            f"{time.strftime('%Y-%m-%d %H:%M:%S')}".encode(),
            0,
        )
        self.fd = fd
        return self

    def __exit__(self, *exc) -> None:
        if self.fd is not None:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None


# --- atomic files
def _atomic(path: Path, write: Callable[[str], None]) -> None:
    """Write through `write(tmp)`, flush to disk, rename into place; no partial file on failure."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise OSError(
            exc.errno,
            f"cannot write to the batch store ({exc.strerror}); free the"
            " space or fix the folder and run the same command again to resume",
            str(path),
        ) from exc
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    _fsync_dir(path.parent)


def _write_parquet(path: Path, frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    _atomic(path, lambda tmp: pq.write_table(table, tmp, compression="zstd", write_page_checksum=True))


def _read_parquet(path: Path) -> pd.DataFrame:
    """A store file read with page checksums verified (raises on any damage)."""
    return pq.read_table(path, page_checksum_verification=True).to_pandas()


def catalogue_frame(records: list[dict]) -> pd.DataFrame:
    """Catalogue rows with the fixed column order and types (so files union cleanly)."""
    frame = pd.DataFrame([{c: r.get(c) for c in CATALOGUE_COLUMNS} for r in records])
    for col in ("seed", "quarters", "rows"):
        frame[col] = frame[col].astype("int64")
    frame["participants"] = frame["participants"].astype("Int64")
    frame["duration_s"] = frame["duration_s"].astype("float64")
    for col in (
        "error",
        "traceback",
        "file",
        "started_at",
        "finished_at",
        "worker",
        "code_version",
        "inputs_digest",
        "inputs_json",
        "drawn_json",
    ):
        frame[col] = frame[col].astype("string")
    return frame


class StoreWriter:
    """Writes completed groups and failure records into a prepared, locked store folder."""

    def __init__(self, root: Path):
        self.root = root

    def write_group(self, frames: list[pd.DataFrame], records: list[dict]) -> str:
        """Store the per-quarter rows of some completed runs, then their catalogue rows; the stem."""
        stem = f"g-{run_key(records[0]['run_id'])}-{uuid.uuid4().hex[:8]}"
        rows = pd.concat(frames, ignore_index=True, sort=False)
        for rec, frame in zip(records, frames, strict=True):
            rec["rows"] = len(frame)
            rec["file"] = f"{stem}.parquet"
        _write_parquet(self.root / "runs" / f"{stem}.parquet", rows)
        _write_parquet(self.root / "catalogue" / f"{stem}.parquet", catalogue_frame(records))
        for rec in records:  # a run that failed before and now succeeded: drop the old record
            old = self.root / "catalogue" / f"failed-{run_key(rec['run_id'])}.parquet"
            if old.exists():
                old.unlink()
        return stem

    def write_inputs(self, files) -> int:
        """Record each distinct input file (by digest) not yet in the store; how many were new.

        Files without content (references to inputs kept elsewhere) are skipped.
        """
        new = 0
        for f in {f.digest: f for f in files if f.content is not None}.values():
            path = self.root / "inputs" / f"{f.digest}.parquet"
            if path.exists():
                continue
            row = {"digest": f.digest, "role": f.role, "name": f.name, "size_bytes": len(f.content)}
            table = pa.table(
                {**{k: [v] for k, v in row.items()}, "content": pa.array([f.content], pa.binary())}
            )
            _atomic(path, lambda tmp, t=table: pq.write_table(t, tmp, write_page_checksum=True))
            new += 1
        return new

    def write_failure(self, record: dict) -> None:
        """Store (or replace) the record of a run that raised."""
        record = {**record, "rows": 0, "file": None}
        _write_parquet(
            self.root / "catalogue" / f"failed-{run_key(record['run_id'])}.parquet", catalogue_frame([record])
        )


# --- resume: what is done, what is damaged
@dataclass
class StoreState:
    """What a store holds: records of completed and failed runs, and what was repaired."""

    completed: dict[str, dict] = field(default_factory=dict)
    failed: dict[str, dict] = field(default_factory=dict)
    damaged_files: list[str] = field(default_factory=list)
    damaged_runs: list[str] = field(default_factory=list)
    orphans_removed: int = 0


def scan(root: Path, repair: bool = True) -> StoreState:
    """Read the catalogue, check every results file, and (under the lock) repair the folder.

    Repair: stale temporary files and results files without a catalogue entry are deleted
    (their runs never completed); unreadable or short files are moved to quarantine/ with
    their partner file, so their runs count as not done and are redone.
    """
    state = StoreState()
    runs_dir, cat_dir, quarantine = root / "runs", root / "catalogue", root / "quarantine"
    if repair:
        for d in (runs_dir, cat_dir, root / "inputs"):
            for tmp in d.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)

    def quarantine_files(*paths: Path) -> None:
        for p in paths:
            if p.exists():
                state.damaged_files.append(str(p.relative_to(root)))
                if repair:
                    os.replace(p, quarantine / f"{p.parent.name}-{p.name}")

    referenced: set[str] = set()
    for cat_path in sorted(cat_dir.glob("*.parquet")):
        stem = cat_path.stem
        results_path = runs_dir / f"{stem}.parquet"
        try:
            cat = _read_parquet(cat_path)
            if "run_id" not in cat.columns or "status" not in cat.columns:
                raise ValueError("not a catalogue file")
        except Exception:
            quarantine_files(cat_path, results_path)
            continue
        records = cat.to_dict("records")
        if stem.startswith("failed-"):
            for rec in records:
                state.failed[rec["run_id"]] = rec
            continue
        referenced.add(results_path.name)
        try:
            counts = _read_parquet(results_path)["run_id"].value_counts().to_dict()
            short = [r["run_id"] for r in records if counts.get(r["run_id"], 0) != r["rows"]]
            if short:
                raise ValueError(f"rows missing for {short[:3]}")
        except Exception:
            quarantine_files(cat_path, results_path)
            state.damaged_runs.extend(r["run_id"] for r in records)
            continue
        for rec in records:
            state.completed[rec["run_id"]] = rec
    for results_path in runs_dir.glob("*.parquet"):
        if results_path.name not in referenced:
            state.orphans_removed += 1
            if repair:
                results_path.unlink()
    for run_id in list(state.failed):
        if run_id in state.completed:
            del state.failed[run_id]
            if repair:
                (cat_dir / f"failed-{run_key(run_id)}.parquet").unlink(missing_ok=True)
    for input_path in sorted((root / "inputs").glob("*.parquet")):
        try:  # a damaged record of an input is set aside; the next batch that reads it writes it again
            if _read_parquet(input_path)["digest"].tolist() != [input_path.stem]:
                raise ValueError("not this input's record")
        except Exception:
            quarantine_files(input_path)
    return state


def supersede(root: Path, state: StoreState, run_ids: set[str]) -> None:
    """Remove the stored results of `run_ids` (completed runs whose inputs changed, which the
    user asked to re-run), keeping every other run; `state` is updated to match.

    Per group holding any of them: its catalogue file is deleted first (its runs stop counting
    as done), the group's other runs are written back as a new group, then the old results file
    is deleted. A crash in between costs at most re-running those other runs (a results file
    without catalogue is removed by the next scan); nothing is ever counted twice.
    """
    files = sorted({state.completed[r]["file"] for r in run_ids if r in state.completed})
    for name in files:
        stem = Path(name).stem
        cat_path, results_path = root / "catalogue" / f"{stem}.parquet", root / "runs" / name
        cat, rows = _read_parquet(cat_path), _read_parquet(results_path)
        kept = cat[~cat["run_id"].isin(run_ids)].to_dict("records")
        kept_rows = rows[~rows["run_id"].isin(run_ids)].reset_index(drop=True)
        cat_path.unlink()
        _fsync_dir(cat_path.parent)
        for rec in cat.to_dict("records"):
            state.completed.pop(rec["run_id"], None)
        if kept:
            new = f"g-{run_key(kept[0]['run_id'])}-{uuid.uuid4().hex[:8]}"
            for rec in kept:
                rec["file"] = f"{new}.parquet"
            _write_parquet(root / "runs" / f"{new}.parquet", kept_rows)
            _write_parquet(root / "catalogue" / f"{new}.parquet", catalogue_frame(kept))
            state.completed.update((rec["run_id"], rec) for rec in kept)
        results_path.unlink()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- queries
def connect(out_dir: str | Path) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with views `runs` (per-quarter rows) and `catalogue`.

    `catalogue` has one row per run (status ok or failed; a failure later redone is dropped);
    `runs` holds only rows of catalogued runs, so a half-committed group is never visible;
    `inputs` has one row per distinct input file (digest, role, name, size_bytes, content as
    a BLOB; `decode(content)` reads a text file). A store from before input files were recorded
    has an empty `inputs` and empty `inputs_digest`/`inputs_json` columns.
    """
    root = Path(out_dir)
    if not (root / "catalogue").is_dir():
        raise InputError(
            "not a batch store (no catalogue/ folder)",
            source=str(root),
            allowed="a folder written by `crypto401k batch`",
        )
    con = duckdb.connect()
    cat_glob = str(root / "catalogue" / "*.parquet").replace("'", "''")
    runs_glob = str(root / "runs" / "*.parquet").replace("'", "''")
    inputs_glob = str(root / "inputs" / "*.parquet").replace("'", "''")

    def sql_type(c: str) -> str:
        return (
            "BIGINT"
            if c in ("seed", "quarters", "rows", "participants", "size_bytes")
            else "DOUBLE"
            if c == "duration_s"
            else "BLOB"
            if c == "content"
            else "VARCHAR"
        )

    try:
        if any((root / "catalogue").glob("*.parquet")):
            con.execute(f"""CREATE VIEW _cat_read AS SELECT * FROM read_parquet('{cat_glob}',
                            union_by_name = true)""")
            have = {row[0] for row in con.execute("DESCRIBE _cat_read").fetchall()}
            # columns an older store lacks read as empty
            missing = "".join(f", NULL::{sql_type(c)} AS {c}" for c in CATALOGUE_COLUMNS if c not in have)
            con.execute(f"CREATE VIEW _cat_all AS SELECT *{missing} FROM _cat_read")
        else:
            cols = ", ".join(f"NULL::{sql_type(c)} AS {c}" for c in CATALOGUE_COLUMNS)
            con.execute(f"CREATE VIEW _cat_all AS SELECT {cols} WHERE false")
        if any((root / "inputs").glob("*.parquet")):
            con.execute(f"""CREATE VIEW inputs AS SELECT {", ".join(INPUT_COLUMNS)}
                            FROM read_parquet('{inputs_glob}', union_by_name = true)""")
        else:
            cols = ", ".join(f"NULL::{sql_type(c)} AS {c}" for c in INPUT_COLUMNS)
            con.execute(f"CREATE VIEW inputs AS SELECT {cols} WHERE false")
        con.execute("""CREATE VIEW catalogue AS SELECT * FROM _cat_all WHERE status = 'ok'
                       OR run_id NOT IN (SELECT run_id FROM _cat_all WHERE status = 'ok')""")
        if any((root / "runs").glob("*.parquet")):
            con.execute(f"""CREATE VIEW runs AS SELECT * EXCLUDE (filename)
                            FROM read_parquet('{runs_glob}', union_by_name = true, filename = true)
                            WHERE parse_filename(filename) IN
                                  (SELECT file FROM catalogue WHERE status = 'ok')""")
        else:
            con.execute("""CREATE VIEW runs AS SELECT NULL::VARCHAR AS run_id,
                           NULL::VARCHAR AS scenario, NULL::BIGINT AS seed,
                           NULL::BIGINT AS quarter WHERE false""")
    except duckdb.Error as exc:
        raise InputError(
            f"cannot read the store ({str(exc).splitlines()[0]}); run the same"
            " batch command again to repair it",
            source=str(root),
        ) from None
    return con


def load_results(out_dir: str | Path, sql: str | None = None) -> pd.DataFrame:
    """A query over a batch store as a pandas DataFrame.

    sql: DuckDB SQL over the views `runs` (one row per run and quarter: run_id, scenario, seed,
    param_<name> for each varied parameter, and the output columns), `catalogue` (one row
    per run: settings, input digests, status, error, timing) and `inputs` (one row per
    distinct input file). None returns every row of `runs` ordered by run_id and quarter. A
    malformed query raises InputError with DuckDB's message.
    """
    con = connect(out_dir)
    query = sql if sql is not None else "SELECT * FROM runs ORDER BY run_id, quarter"
    try:
        return con.execute(query).df()
    except duckdb.Error as exc:
        raise InputError(
            f"query failed: {str(exc).splitlines()[0]}",
            key="--sql",
            allowed="DuckDB SQL over the views runs, catalogue and inputs",
        ) from None
    finally:
        con.close()


def run_inputs(out_dir: str | Path, run_id: str) -> list[InputFile]:
    """The input files that produced run `run_id`, in order, with their content when the store
    keeps it (None where it does not).

    InputError when the store holds no such run, or when it was written before input files
    were recorded.
    """
    con = connect(out_dir)
    try:
        found = con.execute(
            "SELECT inputs_json FROM catalogue WHERE run_id = ? ORDER BY status = 'ok' DESC LIMIT 1", [run_id]
        ).fetchall()
        if not found:
            close = con.execute(
                "SELECT run_id FROM catalogue ORDER BY jaro_winkler_similarity(run_id, ?) DESC LIMIT 1",
                [run_id],
            ).fetchall()
            raise InputError(
                "no such run in the store",
                source=str(out_dir),
                key=run_id,
                allowed=f"a run id of the catalogue, e.g. {close[0][0]!r}"
                if close
                else "a run id of the catalogue",
            )
        if found[0][0] is None:
            raise InputError(
                "this store was written before input files were recorded (crypto401k 0.2.0 or earlier)",
                source=str(out_dir),
                key=run_id,
            )
        refs = json.loads(found[0][0])
        digests = [r["digest"] for r in refs]
        contents = dict(
            con.execute(
                "SELECT digest, content FROM inputs WHERE list_contains(?, digest)", [digests]
            ).fetchall()
        )
    finally:
        con.close()
    out = []
    for r in refs:
        content = contents.get(r["digest"])
        out.append(InputFile(r["role"], r["name"], r["digest"], None if content is None else bytes(content)))
    return out


def completed_run_ids(out_dir: str | Path) -> list[str]:
    """Ids of the runs a store holds as completed (read-only; no repair)."""
    return sorted(scan(Path(out_dir), repair=False).completed)
