"""The ODD document cannot drift from the parameter declaration."""

from __future__ import annotations

import pytest

from experiments.reports import odd_tables
from model import parameters as P

FIX = f"docs/ODD.md parameter tables are stale: run `{odd_tables.FIX_COMMAND}` and commit docs/ODD.md"


@pytest.fixture(scope="module")
def committed() -> str:
    return odd_tables.ODD_PATH.read_text()


def test_committed_tables_match_the_declaration(committed):
    assert odd_tables.render(committed) == committed, FIX


def test_every_parameter_in_exactly_one_table(committed):
    names = odd_tables.tabled_parameters(committed)
    missing = sorted(set(P.PARAMETERS) - set(names))
    repeated = sorted({n for n in names if names.count(n) > 1})
    unknown = sorted(set(names) - set(P.PARAMETERS))
    assert not missing and not repeated and not unknown, (
        f"missing {missing}, repeated {repeated}, undeclared {unknown}; {FIX}"
    )


def test_every_group_has_its_own_prose_section(committed):
    """A group placed automatically (no prose yet) is flagged, so its submodel gets described."""
    assert "not yet described in prose" not in committed, (
        "docs/ODD.md has a parameter group without a submodel description: write its section"
    )


def test_stale_default_is_detected(committed, monkeypatch):
    """Changing a default in the declaration changes the rendered document."""
    p = P.PARAMETERS["attention_base"]
    monkeypatch.setitem(P.PARAMETERS, "attention_base", P.Parameter(**{**vars(p), "default": 0.05}))
    rendered = odd_tables.render(committed)
    assert rendered != committed
    assert "| `attention_base` * | per quarter | 0.05 |" in rendered


def test_new_group_gets_a_table(committed, monkeypatch):
    extra = P.Parameter("lobby_budget", float, 1.0, "USD", 0.0, 2.0, "assumption", "newgroup", "x")
    monkeypatch.setitem(P.PARAMETERS, "lobby_budget", extra)
    monkeypatch.setattr(P, "GROUPS", (*P.GROUPS, "newgroup"))
    rendered = odd_tables.render(committed)
    assert "<!-- BEGIN PARAMETERS group=newgroup -->" in rendered
    assert odd_tables.tabled_parameters(rendered).count("lobby_budget") == 1


def test_cited_defaults_name_a_source():
    """Every default says where it comes from: a citation, 'assumption', 'derived' or a switch."""
    for p in P.PARAMETERS.values():
        assert p.source.strip(), f"{p.name} has no source"


def test_readme_outputs_table_lists_every_output():
    text = odd_tables.README_PATH.read_text()
    assert "<!-- BEGIN OUTPUTS -->" in text
    assert odd_tables.render_readme(text) == text, (
        f"README.md outputs table is stale: run `{odd_tables.FIX_COMMAND}` and commit README.md"
    )
