"""crypto401k from Python: the public API of the crypto-in-401(k) agent-based model.

What a user may import and rely on is what this package exports (`__all__`); the CHANGELOG
records every change to it, and a name leaves it only in a release that says so. Everything
else (the modules of `agents/`, `model/`, `experiments/`, `cli/` and `viz/`, and any name not
listed here) is private: it may change in any release without notice.

The model
    `Crypto401kModel(scenario="baseline", *, rng=SEED, **parameters)`: the Mesa model. `step()`
    runs one quarter, `run(quarters)` several, `quarters_table()` returns the outputs (one row
    per quarter from quarter 0 = 2025Q3, columns named in `OUTPUTS`) as a pandas DataFrame;
    `datacollector` is Mesa's DataCollector. Agents live in Mesa's registry (`model.agents`,
    `model.agents_by_type[Participant]`); `model.participant(row)`, `model.employer(i)` and
    `model.politician(slot)` give one; `model.population` holds every participant's state as
    numpy columns. `model.collect_agents(...)` records agents' attributes for a sample of rows
    every few quarters through the DataCollector's agent-type reporters.
`Participant`, `Employer`, `Politician`
    The agent types with many members (Mesa agents over one row of their columns).
`PARAMETERS`, `Parameter`
    Every parameter, declared once: name -> Parameter (type, unit, default, allowed range,
    source, meaning). Any of them may be passed to the model or `simulate` by name.
`OUTPUTS`
    Every output column: name -> (unit, meaning).
`load_scenario(name_or_path) -> Scenario`, `scenario_names()`
    A shipped scenario by name (`scenario_names()` lists them) or a scenario TOML file, validated;
    `Scenario.with_data("price_path", path)` replays a price path.
`simulate(scenario, *, quarters=None, seed=0, overrides=None) -> (model, table)`
    Build and run one model.
`load_experiment(path) -> Experiment`, `RunSpec`, `run_batch(runs, out_dir, ...) -> BatchSummary`
    Batches: an experiment file's runs (`Experiment.with_overrides(...)`, `.runs()`) or runs
    made in code, run on local processes or a Dask cluster into a resumable Parquet store.
`load_results(store, sql=None) -> DataFrame`, `connect_store(store) -> DuckDB connection`
    A batch store read: DuckDB SQL over the views `runs`, `catalogue` and `inputs`.
`read_posterior(path) -> (DataFrame, metadata)`, `draw_particles(table, n, seed) -> DataFrame`
    A Bayesian calibration's posterior table (`crypto401k calibrate --method abc`): one row per
    particle with its weight and the calibrated parameters' values, and how it was made; n
    particles drawn by weight (seeded), e.g. to run the model at each.
`InputError`
    The one error raised for bad input (a parameter, a file, a value out of range), before any
    work; its message names the problem and what is allowed.
`__version__`
    The installed version of crypto401k.

The guide with examples that run as written is docs/guide/python.md; the notebooks are in
docs/notebooks/.
"""

from importlib import metadata

from agents.employer import Employer
from agents.participant import Participant
from agents.politician import Politician
from experiments.batch.experiment_file import Experiment, load_experiment
from experiments.batch.runner import BatchSummary, run_batch
from experiments.batch.spec import RunSpec
from experiments.batch.store import connect as connect_store
from experiments.batch.store import load_results
from experiments.posterior_table import draw as draw_particles
from experiments.posterior_table import read as read_posterior
from experiments.single_run import simulate
from model.errors import InputError
from model.model import Crypto401kModel
from model.outputs import OUTPUTS
from model.parameters import PARAMETERS, Parameter
from model.scenarios import Scenario
from model.scenarios import available as scenario_names
from model.scenarios import load as load_scenario

__version__ = metadata.version("crypto401k")

__all__ = [
    "OUTPUTS",
    "PARAMETERS",
    "BatchSummary",
    "Crypto401kModel",
    "Employer",
    "Experiment",
    "InputError",
    "Parameter",
    "Participant",
    "Politician",
    "RunSpec",
    "Scenario",
    "__version__",
    "connect_store",
    "draw_particles",
    "load_experiment",
    "load_results",
    "load_scenario",
    "read_posterior",
    "run_batch",
    "scenario_names",
    "simulate",
]
