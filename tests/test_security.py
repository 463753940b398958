"""Security basics: no code execution from user files, a private server, writes only inside --out.

* No project source calls eval/exec or deserialises with pickle, marshal or unsafe YAML (a
  scenario, experiment or target file is data, read with tomllib).
* `crypto401k viz` listens on 127.0.0.1 unless --host says otherwise.
* `crypto401k run` creates --out (with its parents) and writes only inside it: a symlink
  planted at an output name is replaced, never written through.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from toml_fuzz import invoke

REPO = Path(__file__).resolve().parent.parent
SOURCES = [
    p
    for d in ("model", "agents", "experiments", "cli", "viz", "crypto401k", "benchmarks")
    for p in (REPO / d).rglob("*.py")
]
SOURCES += [p for p in REPO.glob("*.py")]
SMALL_RUN = ["--participants", "60", "--quarters", "2", "--set", "n_employers=12", "--no-dashboard"]

# (module or None for a builtin, function) pairs that run code or rebuild objects from bytes.
FORBIDDEN = {
    (None, "eval"),
    (None, "exec"),
    (None, "compile"),
    (None, "__import__"),
    ("pickle", "load"),
    ("pickle", "loads"),
    ("cPickle", "load"),
    ("cPickle", "loads"),
    ("marshal", "load"),
    ("marshal", "loads"),
    ("shelve", "open"),
    ("dill", "load"),
    ("dill", "loads"),
    ("cloudpickle", "load"),
    ("cloudpickle", "loads"),
    ("joblib", "load"),
    ("yaml", "load"),
    ("yaml", "unsafe_load"),
    ("yaml", "full_load"),
    ("pd", "read_pickle"),
    ("pandas", "read_pickle"),
    ("os", "system"),
}


def _forbidden_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    where = path.relative_to(REPO) if path.is_relative_to(REPO) else path
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        if isinstance(f, ast.Name):
            pair = (None, f.id)
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name):
            pair = (f.value.id, f.attr)
        else:
            continue
        if pair in FORBIDDEN:
            found.append(f"{where}:{node.lineno} {'.'.join(x for x in pair if x)}")
        # numpy's load only unpickles when asked to
        if (
            pair[1] == "load"
            and pair[0] in ("np", "numpy")
            and any(
                k.arg == "allow_pickle" and not (isinstance(k.value, ast.Constant) and k.value.value is False)
                for k in node.keywords
            )
        ):
            found.append(f"{where}:{node.lineno} numpy.load(allow_pickle=...)")
    return found


def test_sources_are_found():
    names = {p.name for p in SOURCES}
    assert {"parameters.py", "main.py", "page.py", "single_run.py", "rule.py"} <= names


def test_no_source_executes_or_unpickles_input():
    found = [hit for p in SOURCES for hit in _forbidden_calls(p)]
    assert not found, "code execution or unpickling in project sources: " + "; ".join(found)


def test_the_scanner_catches_what_it_should(tmp_path):
    bad = tmp_path / "probe.py"
    bad.write_text(
        "import pickle, yaml\nx = eval('1')\npickle.loads(b'')\nyaml.load('a')\n"
        "np.load('f.npy', allow_pickle=True)\nyaml.safe_load('a')\n"
    )
    assert len(_forbidden_calls(bad)) == 4


def test_viz_listens_on_localhost_by_default(monkeypatch):
    viz = pytest.importorskip("cli.viz")
    calls = []
    monkeypatch.setattr(viz, "serve", lambda cmd, env: calls.append(cmd) or 0)
    result = invoke(["viz", "--port", "0"])
    assert result.code == 0, result.stderr
    (cmd,) = calls
    assert cmd[cmd.index("--host") + 1] == "127.0.0.1"
    calls.clear()
    assert invoke(["viz", "--port", "0", "--host", "0.0.0.0"]).code == 0
    assert calls[0][calls[0].index("--host") + 1] == "0.0.0.0"


def test_out_folder_and_its_parents_are_created(tmp_path):
    out = tmp_path / "a" / "b" / "c"
    result = invoke(["run", "--out", str(out), *SMALL_RUN])
    assert result.code == 0, result.stderr
    assert {p.name for p in out.iterdir()} == {"quarters.csv", "summary.json"}
    # Nothing was written outside --out.
    assert {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()} == {
        "a/b/c/quarters.csv",
        "a/b/c/summary.json",
    }


def test_symlinks_at_output_names_are_replaced_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "important.txt"
    victim.write_text("do not overwrite")
    out = tmp_path / "out"
    out.mkdir()
    (out / "quarters.csv").symlink_to(victim)
    (out / "summary.json").symlink_to(outside)  # a link to a folder outside
    refused = invoke(["run", "--out", str(out), *SMALL_RUN])  # earlier results are not replaced silently
    assert refused.code == 2 and "--force" in refused.stderr
    result = invoke(["run", "--out", str(out), "--force", *SMALL_RUN])
    assert result.code == 0, result.stderr
    assert victim.read_text() == "do not overwrite"
    assert [p.name for p in outside.iterdir()] == ["important.txt"]
    for name in ("quarters.csv", "summary.json"):
        assert not (out / name).is_symlink() and (out / name).is_file()
    assert (out / "quarters.csv").read_text().startswith("quarter,")
