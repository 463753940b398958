"""Agent-level data on request: Mesa's agent-type reporters over a fixed sample of rows every k
quarters (`Crypto401kModel.collect_agents`), without touching the outputs or the default run."""

from __future__ import annotations

import mesa
import numpy as np
import pandas as pd
import pytest

from agents.employer import Employer
from agents.participant import Participant
from agents.politician import Politician
from model.errors import InputError
from model.model import Crypto401kModel

SMALL = {"n_participants": 400, "n_employers": 20}


def registered(model: Crypto401kModel, agent_type: type) -> int:
    """Agents of `agent_type` in Mesa's registry, read without making the missing handles."""
    return sum(isinstance(a, agent_type) for a in mesa.Model.agents.fget(model))


def test_recording_agents_leaves_every_output_bit_identical():
    plain = Crypto401kModel("baseline", rng=5, **SMALL)
    recorded = Crypto401kModel("baseline", rng=5, **SMALL)
    recorded.collect_agents(sample=60, every=2)
    recorded.collect_agents(agent_type=Employer, sample=None, every=4)
    recorded.collect_agents({"stance": "stance", "double": lambda m: 2 * m.stance}, agent_type=Politician)
    plain.run(12)
    recorded.run(12)
    pd.testing.assert_frame_equal(plain.quarters_table(), recorded.quarters_table(), check_exact=True)
    for column in ("alloc", "units_active", "units_default", "balance_other", "age", "employer"):
        assert np.array_equal(getattr(plain.population, column), getattr(recorded.population, column))
    assert plain.market.price == recorded.market.price


def test_a_default_run_makes_no_agent_handles_and_a_sample_only_its_own():
    plain = Crypto401kModel("baseline", rng=1, **SMALL)
    plain.run(4)
    assert registered(plain, Participant) == 0 and registered(plain, Employer) == 0
    recorded = Crypto401kModel("baseline", rng=1, **SMALL)
    recorded.collect_agents(sample=25, every=4)
    recorded.run(4)
    assert registered(recorded, Participant) == 25  # a retiree's handle leaves as the new worker's comes
    assert registered(recorded, Employer) == 0


def test_a_fixed_sample_of_rows_every_k_quarters_read_from_the_columns():
    m = Crypto401kModel("baseline", rng=2, **SMALL)
    m.collect_agents({"row": "row", "ident": "ident", "balance": "balance", "age": "age"}, sample=40, every=4)
    m.run(14)
    df = m.datacollector.get_agenttype_vars_dataframe(Participant)
    assert list(df.index.names) == ["Step", "AgentID"]
    assert sorted(df.index.get_level_values("Step").unique()) == [0, 4, 8, 12]  # quarter 0 included
    rows = df.groupby(level="Step")["row"].apply(lambda s: tuple(sorted(s)))
    assert rows.nunique() == 1 and len(rows.iloc[0]) == 40  # the same rows at every record
    # the values are the rows' columns as the quarter left them (quarter 12 is not the last)
    m2 = Crypto401kModel("baseline", rng=2, **SMALL)
    m2.run(12)
    last = df.xs(12, level="Step").set_index("row").sort_index()
    pop = m2.population
    assert np.array_equal(last.index.to_numpy(), np.array(rows.iloc[0]))
    assert np.allclose(last["balance"].to_numpy(), pop.balance[last.index.to_numpy()], rtol=0, atol=1e-9)
    assert np.array_equal(last["ident"].to_numpy(), pop.ident[last.index.to_numpy()])


def test_a_row_is_followed_through_retirement_by_its_new_occupant():
    m = Crypto401kModel("baseline", rng=3, **SMALL)
    m.collect_agents({"row": "row", "ident": "ident", "age": "age"}, sample=None, every=1)
    m.run(8)
    df = m.datacollector.get_agenttype_vars_dataframe(Participant).reset_index()
    assert len(df) == 9 * SMALL["n_participants"]  # every row, quarters 0-8
    occupants = df.groupby("row")["ident"].nunique()
    assert (occupants > 1).any()  # some retired and a new worker took the row
    changed = occupants[occupants > 1].index[0]
    per_row = df[df["row"] == changed].sort_values("Step")
    assert per_row["AgentID"].nunique() == per_row["ident"].nunique()  # a new Mesa agent for a new person


def test_the_sample_is_fixed_by_the_seed():
    def sampled_rows(seed: int) -> list[int]:
        m = Crypto401kModel("baseline", rng=seed, **SMALL)
        m.collect_agents({"row": "row"}, sample=30)
        return sorted(m.datacollector.get_agenttype_vars_dataframe(Participant)["row"])

    assert sampled_rows(7) == sampled_rows(7)
    assert sampled_rows(7) != sampled_rows(8)


def test_default_reporters_of_every_row_agent_type_read():
    m = Crypto401kModel("baseline", rng=4, **SMALL)
    for agent_type in (Participant, Employer, Politician):
        m.collect_agents(agent_type=agent_type, sample=5, every=1)
    m.step()
    for agent_type in (Participant, Employer, Politician):
        df = m.datacollector.get_agenttype_vars_dataframe(agent_type)
        assert len(df) == 10 and df.notna().all().all(), agent_type.__name__


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"agent_type": int}, "agent_type"),
        ({"sample": 0}, "sample"),
        ({"every": 0}, "every"),
        ({"every": 1.5}, "every"),
        ({"reporters": {"b": "balanse"}}, "b"),
        ({"reporters": {}}, "reporters"),
    ],
)
def test_bad_requests_are_one_line_input_errors(kwargs, key):
    m = Crypto401kModel("baseline", rng=0, **SMALL)
    with pytest.raises(InputError) as info:
        m.collect_agents(**kwargs)
    assert info.value.key == key and "\n" not in str(info.value)
    if key == "b":
        assert "did you mean 'balance'" in str(info.value)


def test_a_type_is_recorded_once():
    m = Crypto401kModel("baseline", rng=0, **SMALL)
    m.collect_agents(sample=5)
    with pytest.raises(InputError, match="already recorded"):
        m.collect_agents(sample=10)
