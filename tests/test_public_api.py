"""The public Python API (`crypto401k`): what it exports is documented, versioned and shipped.

The Python guide's examples run as written in tests/test_guides.py; here: every exported name
has its own docstring, the guide's table and the CHANGELOG name exactly the exported names, the
package ships in the wheel (and to Dask workers), and the model's columns are the outputs.
"""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import crypto401k

ROOT = Path(__file__).resolve().parent.parent
GUIDE = ROOT / "docs" / "guide" / "python.md"
DATA = {"OUTPUTS", "PARAMETERS", "__version__"}  # plain values: their meaning is in the module docstring


def test_every_public_name_exists_and_has_its_own_docstring():
    assert crypto401k.__doc__ and "private" in crypto401k.__doc__
    assert len(crypto401k.__all__) == len(set(crypto401k.__all__))
    for name in crypto401k.__all__:
        obj = getattr(crypto401k, name)
        if name in DATA:
            assert name in crypto401k.__doc__
            continue
        doc = obj.__doc__ or ""
        assert doc.strip(), f"crypto401k.{name} has no docstring"
        if isinstance(obj, type):  # not the docstring it inherits
            assert "__doc__" in vars(obj) and doc != object.__doc__, name


def test_the_guide_and_the_changelog_name_exactly_the_public_api():
    text = GUIDE.read_text()
    start = text.index("| name | what it is |")
    table = text[start : text.index("\n\n", start)]
    listed = {n for row in table.splitlines()[2:] for n in re.findall(r"`(\w+)`", row.split("|")[1])}
    assert listed == set(crypto401k.__all__)
    changelog = (ROOT / "CHANGELOG.md").read_text()
    # the API came with 0.3.0; the section that lists it is that release's (Unreleased before)
    heading = "## [0.3.0]" if "## [0.3.0]" in changelog else "## [Unreleased]"
    start = changelog.index(heading)
    section = changelog[start : changelog.index("\n## [", start + 1)]
    public = section[section.index("public Python API") :]
    missing = [n for n in crypto401k.__all__ if f"`{n}`" not in public]
    assert not missing, f"CHANGELOG's {heading} public API omits {missing}"


def test_the_package_ships_in_the_wheel_and_to_dask_workers():
    from experiments.batch import worker_code

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    wheel = project["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]
    assert "crypto401k" in wheel and set(wheel) == set(worker_code.PACKAGES)
    contracts = project["tool"]["importlinter"]["contracts"]
    layers = next(c for c in contracts if c["type"] == "layers")["layers"]
    assert "crypto401k" in [p.strip() for p in layers[0].split("|")]  # an interface, beside cli and viz
    assert crypto401k.__version__ == metadata.version("crypto401k") == project["project"]["version"]


def test_a_run_through_the_api_has_one_column_per_declared_output():
    model, table = crypto401k.simulate(
        "no_401k", seed=1, quarters=2, overrides={"n_participants": 200, "n_employers": 10}
    )
    assert isinstance(model, crypto401k.Crypto401kModel)
    assert list(table.columns) == list(crypto401k.OUTPUTS)
    assert list(table["quarter"]) == [0, 1, 2]
    assert set(crypto401k.PARAMETERS) >= {"n_participants", "channel_401k"}
    assert model.params["channel_401k"] is False
