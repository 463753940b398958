"""The guides run as written: every `uv run crypto401k ...` command in a fenced block of README.md
and docs/guide/*.md, every TOML example there, and the Python examples of the Python guide, at
tiny sizes.

Commands are found anew on every run, so a block added to a guide is tested without touching
this file. Each document's commands run in order in one fresh folder (a later command may read
what an earlier one wrote), with copies of the repository's input files, through the real entry
point in this process. Sizes are shrunk by replacing or adding options (`TINY`), never by
editing the command otherwise; a command that shows its output (`$ uv run crypto401k ...` and
the lines below it) must print that output. Commands that serve until stopped or rewrite
tracked files are parsed against the command line's options but not run (`PARSE_ONLY`).

The ```python blocks of a document in `PYTHON_DOCS` run in order in one namespace (a later block
uses what an earlier one made), in such a folder, exactly as written: their sizes are the
guide's own, small enough for the suite. A traceback points at the document's own line.
"""

from __future__ import annotations

import re
import shlex
import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from toml_fuzz import invoke

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs" / "guide").glob("*.md"))]

# Options replaced (or added) to make each command tiny; "--set" maps parameter -> value.
# A flag maps to None. Outcome quarters are kept (a statistic at quarter 12 needs 12 quarters).
_SMALL = {"--participants": "300", "--set": {"n_employers": "20"}}
TINY: dict[str, dict] = {
    "run": {**_SMALL, "--quarters": "4"},
    "batch": {**_SMALL, "--replicates": "1", "--quarters": "4", "--workers": "1", "--no-progress": None},
    "sensitivity": {**_SMALL, "--samples": "2", "--seeds": "1", "--workers": "1"},
    "calibrate": {**_SMALL, "--trials": "2", "--seeds": "1", "--workers": "1"},
    # the Bayesian calibration: a prior sample and one generation (the budget stops it there)
    "calibrate --method abc": {
        **_SMALL,
        "--population": "10",
        "--generations": "2",
        "--budget": "30",
        "--predictive": "4",
        "--seeds": "1",
        "--workers": "1",
    },
    "validate": {"--quick": None},
}
PARSE_ONLY = {
    "viz": "serves until stopped (tests/test_app_browser.py runs the real server)",
    "docs": "rewrites README.md and docs/ODD.md (tests/test_docs.py checks they are current)",
}
# Options that make a command parse-only: the guides' cluster addresses are examples
# (tests/test_cluster.py runs real schedulers and workers).
PARSE_ONLY_OPTIONS = {"--dask": "needs a running Dask scheduler at the guide's example address"}
TINY_POINTS = 60  # sampled designs (LHS, Sobol) shrink to this many points in the workspace
# Documents whose ```python blocks run, and those whose blocks cannot run here (with why).
PYTHON_DOCS = ["docs/guide/python.md", "docs/guide/calibration.md"]
PYTHON_NOT_RUN = {
    "docs/guide/cluster.md": "starts SLURM or Kubernetes clusters (tests/test_cluster.py runs Dask)"
}


def outcome_quarters(commands: list[Command]) -> int:
    """The last quarter any `discover` outcome of these commands reads (0 if none): a batch in the
    same guide must run that long, or the outcome is refused."""
    from model.calendar import date_to_quarter

    last = 0
    for cmd in commands:
        if cmd.argv[0] != "discover":
            continue
        for i, arg in enumerate(cmd.argv[:-1]):
            if arg != "--outcome":
                continue
            text = cmd.argv[i + 1]
            for label in re.findall(r"\b(\d{4}Q[1-4])\b", text):
                last = max(last, date_to_quarter(label))
            for number in re.findall(r"[@:](\d+)\b", text):
                last = max(last, int(number))
    return last


@dataclass
class Command:
    """One documented command: where it is, its arguments after `crypto401k`, shown output."""

    doc: str
    line: int
    argv: list[str]
    shown: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}: uv run crypto401k {shlex.join(self.argv)}"


def fenced_blocks(path: Path) -> list[tuple[str, int, list[str]]]:
    """(language, first line number, lines) of every fenced code block in a markdown file."""
    out, lang, start, lines = [], None, 0, []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        fence = re.match(r"^\s*```(\w*)\s*$", line)
        if fence and lang is None:
            lang, start, lines = fence.group(1), number + 1, []
        elif fence:
            out.append((lang, start, lines))
            lang = None
        elif lang is not None:
            lines.append(line)
    return out


def documented_commands(path: Path) -> list[Command]:
    """Every `uv run crypto401k ...` in the file's fenced (non-TOML) blocks, in order."""
    found: list[Command] = []
    for lang, start, lines in fenced_blocks(path):
        if lang == "toml":
            continue
        i = 0
        while i < len(lines):
            number, text = start + i, lines[i]
            while text.rstrip().endswith("\\") and i + 1 < len(lines):  # continued lines
                i += 1
                text = text.rstrip()[:-1] + " " + lines[i]
            i += 1
            if "uv run crypto401k" not in text:
                continue
            transcript = text.startswith("$ ")
            tokens = shlex.split(text[2:] if transcript else text, comments=True)
            segments, current = [], []
            for token in tokens:  # `a && b` or `a; b`
                if token in ("&&", ";", "||"):
                    segments.append(current)
                    current = []
                else:
                    current.append(token)
            segments.append(current)
            for seg in segments:
                if seg[:3] == ["uv", "run", "crypto401k"]:
                    cmd = Command(path.relative_to(ROOT).as_posix(), number, seg[3:])
                    if transcript:  # the output shown below it, up to the next prompt
                        while i < len(lines) and not lines[i].startswith("$ "):
                            cmd.shown.append(lines[i])
                            i += 1
                    found.append(cmd)
    return found


def tiny_key(argv: list[str]) -> str:
    """The TINY entry of a command: its name, or `calibrate --method abc` for the Bayesian one."""
    if argv[0] == "calibrate" and (
        "--method=abc" in argv
        or any(a == "--method" and b == "abc" for a, b in zip(argv, argv[1:], strict=False))
    ):
        return "calibrate --method abc"
    return argv[0]


def shrink(argv: list[str]) -> list[str]:
    """The command with the options of TINY[command] replaced or added (a --recovery N keeps 2)."""
    out = list(argv)
    key = tiny_key(argv)
    if key == "calibrate --method abc" and "--recovery" in out:
        out[out.index("--recovery") + 1] = "2"
    for option, value in TINY.get(key, {}).items():
        if option == "--set":
            for name, v in value.items():
                spots = [
                    j for j in range(len(out) - 1) if out[j] == "--set" and out[j + 1].startswith(f"{name}=")
                ]
                if spots:
                    out[spots[0] + 1] = f"{name}={v}"
                else:
                    out += ["--set", f"{name}={v}"]
        elif value is None:
            if option not in out:
                out.append(option)
        elif option in out:
            out[out.index(option) + 1] = value
        elif any(a.startswith(option + "=") for a in out):
            out = [f"{option}={value}" if a.startswith(option + "=") else a for a in out]
        else:
            out += [option, value]
    return out


ALL = {doc.relative_to(ROOT).as_posix(): documented_commands(doc) for doc in DOCS}


def test_the_guides_have_commands_and_the_parser_finds_them():
    every = [c for cmds in ALL.values() for c in cmds]
    assert len(every) >= 15
    names = {c.argv[0] for c in every}
    assert {"run", "batch", "results", "report", "sensitivity", "calibrate", "params", "viz"} <= names
    assert any(c.shown for c in every)  # README's error transcript
    # a continued line is one command
    sobol = next(c for c in every if c.argv[:3] == ["sensitivity", "--method", "sobol"])
    assert "--participants" in sobol.argv and "--samples" in sobol.argv


def test_shrink_replaces_sizes_and_keeps_the_rest():
    argv = ["sensitivity", "--outcome", "adoption_rate@12", "--samples", "32", "--set", "n_employers=500"]
    small = shrink(argv)
    assert small[:3] == argv[:3]
    assert small[small.index("--samples") + 1] == "2" and "n_employers=20" in small
    assert "n_employers=500" not in small and small.count("--samples") == 1


def _workspace(tmp_path: Path) -> Path:
    """A fresh folder with copies of the inputs the guides name (experiments, scenarios, docs);
    sampled designs in the experiment files cut to TINY_POINTS points."""
    for pattern in (
        "experiments/*.toml",
        "experiments/*.csv",
        "experiments/posterior/*.parquet",
        "model/scenarios/*.toml",
        "model/history/*.toml",
        "docs/*.md",
    ):
        for src in ROOT.glob(pattern):
            dest = tmp_path / src.relative_to(ROOT)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
            if src.parent.name == "experiments":
                text = dest.read_text()
                dest.write_text(
                    re.sub(
                        r"^points = (\d+)",
                        lambda m: f"points = {min(int(m[1]), TINY_POINTS)}",
                        text,
                        flags=re.M,
                    )
                )
    return tmp_path


def _parse_only(argv: list[str]) -> None:
    """The arguments parse against the command's options (nothing runs)."""
    import typer

    from cli.main import app

    group = typer.main.get_command(app)
    command = group.get_command(None, argv[0])
    assert command is not None, f"no command {argv[0]!r}"
    command.make_context(argv[0], list(argv[1:]))


@pytest.mark.parametrize("doc", [d for d, cmds in ALL.items() if cmds])
def test_every_documented_command_runs(doc, tmp_path, monkeypatch):
    monkeypatch.chdir(_workspace(tmp_path))
    quarters = outcome_quarters(ALL[doc])
    for cmd in ALL[doc]:
        if cmd.argv[0] in PARSE_ONLY or any(option in cmd.argv for option in PARSE_ONLY_OPTIONS):
            _parse_only(cmd.argv)
            continue
        argv = shrink(cmd.argv)
        if argv[0] == "batch" and quarters > int(TINY["batch"]["--quarters"]):
            argv[argv.index("--quarters") + 1] = str(quarters)
        result = invoke(argv)
        said = " ".join((result.stdout + result.stderr).split())
        assert "Traceback" not in said, f"{cmd}\n{result.stderr[-3000:]}"
        if cmd.shown:
            shown = " ".join(" ".join(cmd.shown).split())
            assert shown in said, f"{cmd}: the guide shows\n{shown}\nbut it printed\n{said}"
        else:
            assert result.code == 0, f"{cmd} ended with exit {result.code}:\n{result.stderr[-3000:]}"


TOML_BLOCKS = [
    pytest.param(lines, id=f"{path.relative_to(ROOT).as_posix()}:{start}")
    for path in DOCS
    for lang, start, lines in fenced_blocks(path)
    if lang == "toml"
]


@pytest.mark.parametrize("lines", TOML_BLOCKS)
def test_every_documented_toml_example_loads(lines, tmp_path):
    from experiments.batch.experiment_file import load_experiment
    from experiments.tuning.targets import load_targets
    from model import scenarios

    text = textwrap.dedent("\n".join(lines)) + "\n"
    path = tmp_path / "example.toml"
    path.write_text(text)
    for data in [*ROOT.glob("experiments/*.csv"), *ROOT.glob("experiments/posterior/*.parquet")]:
        dest = tmp_path / data.relative_to(ROOT)  # data files an example names, as a user has them
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(data, dest)
    if re.search(r"^\[experiment\]", text, re.M):
        assert load_experiment(path).runs()
    elif re.search(r"^\[\[target\]\]", text, re.M):
        assert load_targets(path)
    else:
        assert scenarios.load(path).parameters()


def test_a_guides_batch_runs_as_long_as_its_outcomes_read():
    commands = [
        Command("g.md", 1, ["discover", "s", "--outcome", "ever x@0:2035Q4 >= 1", "--outcome", "y@12 > 0"]),
        Command("g.md", 2, ["discover", "s", "--outcome", "ever rescinded@0:40"]),
    ]
    assert outcome_quarters(commands) == 41  # 2035Q4 is quarter 41 (quarter 0 = 2025Q3)
    assert outcome_quarters(commands[1:]) == 40
    assert outcome_quarters([Command("g.md", 1, ["batch", "f.toml", "--quarters", "80"])]) == 0


def python_blocks(path: Path) -> list[tuple[int, str]]:
    """(first line number, code) of every ```python block of a markdown file, in order."""
    return [(start, "\n".join(lines)) for lang, start, lines in fenced_blocks(path) if lang == "python"]


def test_every_documents_python_blocks_run_or_say_why_not():
    having = {d.relative_to(ROOT).as_posix() for d in DOCS if python_blocks(d)}
    assert having == set(PYTHON_DOCS) | set(PYTHON_NOT_RUN)
    assert len(python_blocks(ROOT / PYTHON_DOCS[0])) >= 10


@pytest.mark.parametrize("doc", PYTHON_DOCS)
def test_every_python_example_runs_as_written(doc, tmp_path, monkeypatch):
    import matplotlib

    matplotlib.use("Agg")  # a figure a guide draws is saved, never shown
    monkeypatch.chdir(_workspace(tmp_path))
    namespace: dict = {"__name__": "__guide__"}
    for start, code in python_blocks(ROOT / doc):
        # padded so that a traceback names the guide's own line
        exec(compile("\n" * (start - 1) + code, str(ROOT / doc), "exec"), namespace)
