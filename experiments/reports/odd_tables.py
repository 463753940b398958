"""The ODD document's parameter tables, generated from the one parameter declaration.

docs/ODD.md keeps its prose by hand and its parameter tables between markers::

    <!-- BEGIN PARAMETERS group=behaviour -->
    ...generated table...
    <!-- END PARAMETERS -->

`render(text)` returns the document with every marked block regenerated from
model/parameters.py (name, unit, default, allowed range, source, meaning). A declared group
that has no block yet gets one, under its own heading, just before `<!-- END SUBMODELS -->`,
so a new parameter group can never go missing from the document. tests/test_docs.py compares
the committed file with `render(committed)` and fails when they differ.

Regenerate with `crypto401k docs` or `uv run python -m experiments.reports.odd_tables --write`.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from model import parameters as P

ODD_PATH = Path(__file__).resolve().parents[2] / "docs" / "ODD.md"
FIX_COMMAND = "uv run crypto401k docs"
BLOCK = re.compile(
    r"(<!-- BEGIN PARAMETERS group=(?P<group>[\w-]+) -->\n)(?P<body>.*?)(<!-- END PARAMETERS -->)", re.S
)
END_SUBMODELS = "<!-- END SUBMODELS -->"


def _cell(text: str) -> str:
    """Text safe inside a markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ")


def _value(p: P.Parameter, x) -> str:
    """A default or bound as the user would type it."""
    if p.type is bool:
        return "true" if x else "false"
    if x is None:
        return "unbounded"
    if p.type is int:
        return f"{int(x):,}".replace(",", "_") if abs(x) >= 10_000 else str(int(x))
    x = float(x)
    if x != 0 and (abs(x) >= 1e6 or abs(x) < 1e-3):
        return f"{x:.4g}"
    return f"{x:g}"


def table(group: str) -> str:
    """The markdown table of every parameter in `group`, in declaration order."""
    rows = [p for p in P.PARAMETERS.values() if p.group == group]
    if not rows:
        raise ValueError(f"no declared parameters in group {group!r}; groups: {', '.join(P.GROUPS)}")
    lines = ["| parameter | unit | default | allowed | source | meaning |", "|---|---|---|---|---|---|"]
    for p in rows:
        allowed = "true / false" if p.type is bool else f"{_value(p, p.low)} to {_value(p, p.high)}"
        if p.type is int:
            allowed += " (integer)"
        name = f"`{p.name}`" + (" *" if p.behavioural else "")
        lines.append(
            "| "
            + " | ".join(_cell(c) for c in (name, p.unit, _value(p, p.default), allowed, p.source, p.doc))
            + " |"
        )
    return "\n".join(lines) + "\n"


def render(text: str) -> str:
    """`text` with every parameter block regenerated and a block added for any unplaced group.

    Raises ValueError when a block names an undeclared group, when a group has two blocks, or
    when a group must be added but the document has no END SUBMODELS marker.
    """
    seen: list[str] = []

    def fill(m: re.Match) -> str:
        group = m["group"]
        if group in seen:
            raise ValueError(f"docs/ODD.md: group {group!r} has more than one parameter table")
        seen.append(group)
        return m.group(1) + table(group) + m.group(4)

    out = BLOCK.sub(fill, text)
    missing = [g for g in P.GROUPS if g not in seen]
    if missing:
        if END_SUBMODELS not in out:
            raise ValueError(
                f"docs/ODD.md: no place for parameter groups {missing}: add a '{END_SUBMODELS}' line"
            )
        added = "".join(
            f"### Parameters: {g} (not yet described in prose)\n\n"
            f"<!-- BEGIN PARAMETERS group={g} -->\n{table(g)}<!-- END PARAMETERS -->\n\n"
            for g in missing
        )
        out = out.replace(END_SUBMODELS, added + END_SUBMODELS, 1)
    return out


def tabled_parameters(text: str) -> list[str]:
    """Parameter names as they appear in the document's tables (one entry per table row)."""
    names: list[str] = []
    for m in BLOCK.finditer(text):
        names += re.findall(r"^\| `(\w+)`", m["body"], re.M)
    return names


README_PATH = ODD_PATH.parent.parent / "README.md"
OUTPUTS_BLOCK = re.compile(r"(<!-- BEGIN OUTPUTS -->\n)(?P<body>.*?)(<!-- END OUTPUTS -->)", re.S)


def outputs_table() -> str:
    """The README's table of output columns, from model/outputs.py OUTPUTS."""
    from model.outputs import OUTPUTS

    lines = ["| output | unit | meaning |", "|---|---|---|"]
    lines += [f"| `{name}` | {_cell(unit)} | {_cell(meaning)} |" for name, (unit, meaning) in OUTPUTS.items()]
    return "\n".join(lines) + "\n"


def render_readme(text: str) -> str:
    """`text` (the README) with its outputs table regenerated."""
    return OUTPUTS_BLOCK.sub(lambda m: m.group(1) + outputs_table() + m.group(3), text)


def write(path: Path = ODD_PATH, readme: Path = README_PATH) -> bool:
    """Regenerate the tables in the ODD (`path`) and the README in place; whether anything changed."""
    from experiments.single_run import atomic_write

    changed = False
    for target, fn in ((path, render), (readme, render_readme)):
        old = target.read_text()
        new = fn(old)
        if new != old:
            atomic_write(target, lambda p, new=new: p.write_text(new))
            changed = True
    return changed


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        changed = write()
        print(f"{'updated' if changed else 'already up to date:'} {ODD_PATH}, {README_PATH}")
    elif sys.argv[1:] in ([], ["--check"]):
        text = ODD_PATH.read_text()
        if render(text) != text:
            sys.exit(f"docs/ODD.md parameter tables are stale: run `{FIX_COMMAND}`")
        print("docs/ODD.md parameter tables are up to date")
    else:
        sys.exit("usage: python -m experiments.reports.odd_tables [--write | --check]")
