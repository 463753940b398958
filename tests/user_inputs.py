"""A researcher's own input files: a scenario that extends another of their files, which extends a
shipped scenario, plus the data files a scenario names in its [inputs] section.

`write_user_inputs(folder)` writes them and returns the scenario's path; tests edit them (a changed
file must mean new runs), read them back from a store (provenance) and delete them (no worker may
need them). Used by tests/test_batch_inputs.py and tests/test_cluster.py.

DATA_FILES holds one entry per file-valued scenario key (model/inputs.py, roles registered with
`scenario_key=True`). A part that registers one (a price path, an observed history) adds ONE line
here, e.g.

    "price_path": ("prices.csv", "quarter,price_index\\n0,1.0\\n1,0.9\\n..."),

and every test using these files then covers it: shipped to Dask workers that cannot see it,
digested, recorded, and an edit of it noticed (`test_every_file_valued_key_is_covered` fails until
the line is added).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

PARENT = """
[scenario]
name = "my_parent"
extends = "baseline"

[parameters]
imitation_strength = 0.8
"""

SCENARIO = """
[scenario]
name = "my"
extends = "parent.toml"

[parameters]
affinity_mean = -0.5
"""

# A user's price path: weekly prices from the order's quarter into 2026 (a coarse stress path).
PRICES = "date,price\n" + "".join(
    f"2025-{m:02d}-{d:02d},{100.0 * (1.0 - 0.01 * i):.2f}\n"
    for i, (m, d) in enumerate((m, d) for m in range(9, 13) for d in (1, 8, 15, 22))
)
HISTORY = """
[history]
as_of = "2025-12-22"
description = "a user's history"

[[event]]
date = "2025-11-03"
kind = "rule_proposed"
what = "a proposal"
source = "my notes"

[[price]]
date = "2025-09-01"
price = 100.0
source = "my notes"

[[price]]
date = "2025-12-22"
price = 80.0
source = "my notes"
"""

# role -> (file name beside the scenario, content)
DATA_FILES: dict[str, tuple[str, str]] = {
    "history": ("history.toml", HISTORY),
    "price_path": ("prices.csv", PRICES),
}


def write_user_inputs(folder: Path, affinity_mean: float = -0.5, data: dict | None = None) -> Path:
    """Write parent.toml, my.toml (extending it) and the data files into `folder`; my.toml's path.

    data: role -> (file name, content) named in my.toml's [inputs] (default: DATA_FILES).
    """
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "parent.toml").write_text(textwrap.dedent(PARENT))
    text = textwrap.dedent(SCENARIO).replace("-0.5", repr(affinity_mean))
    data = DATA_FILES if data is None else data
    if data:
        text += "\n[inputs]\n" + "".join(f'{role} = "{name}"\n' for role, (name, _) in data.items())
        for name, content in data.values():
            (folder / name).write_text(content)
    path = folder / "my.toml"
    path.write_text(text)
    return path


def user_file_names(data: dict | None = None) -> list[str]:
    """The files write_user_inputs writes."""
    data = DATA_FILES if data is None else data
    return ["parent.toml", "my.toml", *(name for name, _ in data.values())]
