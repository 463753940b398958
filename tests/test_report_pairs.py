"""The batch report's paired moat result: what exposure changes, on synthetic runs with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd

from experiments.batch import report


def runs(lost_off: list[bool], lost_on: list[bool], scenario: str = "baseline") -> pd.DataFrame:
    rows = []
    for seed, (off, on) in enumerate(zip(lost_off, lost_on, strict=True)):
        rows.append(
            {"scenario": scenario, "seed": seed, "param_exposure_in_politics": "false", "channel_lost": off}
        )
        rows.append(
            {"scenario": scenario, "seed": seed, "param_exposure_in_politics": "true", "channel_lost": on}
        )
    return pd.DataFrame(rows)


def test_exposure_effect_counts_pairs_saved_and_lost_only_with_exposure():
    # 100 seeds: 40 lost without exposure; exposure saves 10 of those and loses 2 others
    off = [True] * 40 + [False] * 60
    on = [False] * 10 + [True] * 30 + [True] * 2 + [False] * 58
    effect = report.exposure_effect(runs(off, on)).iloc[0]
    assert effect["pairs"] == 100 and effect["saved"] == 10 and effect["lost_only_with"] == 2
    assert effect["lost_without"] == 0.40 and effect["lost_with"] == 0.32
    assert np.isclose(effect["difference"], 0.08)
    assert effect["difference_low"] < 0.08 < effect["difference_high"]
    assert effect["difference_low"] > 0  # 10 saved against 2 lost: the bootstrap keeps the sign
    assert effect["lost_without_low"] < 0.40 < effect["lost_without_high"]


def test_no_difference_gives_an_interval_around_zero_and_identical_pairs_a_point():
    same = [True] * 30 + [False] * 70
    effect = report.exposure_effect(runs(same, same)).iloc[0]
    assert effect["difference"] == 0 and effect["difference_low"] == 0 == effect["difference_high"]
    rng = np.random.default_rng(3)
    off = list(rng.random(400) < 0.3)
    on = list(rng.random(400) < 0.3)  # independent draws at the same rate: no true effect
    effect = report.exposure_effect(runs(off, on)).iloc[0]
    assert effect["difference_low"] < 0 < effect["difference_high"]


def test_runs_without_the_switch_give_no_pairs():
    frame = runs([True], [False]).drop(columns="param_exposure_in_politics")
    assert report.exposure_effect(frame).empty


def test_each_arm_is_paired_with_its_own_counterfactual():
    # the observed arm against observed_no_401k (the same observed history), the others against no_401k
    present = {"baseline", "observed", "no_401k", "observed_no_401k", "tdf_default"}
    assert report.counterfactual_of("observed", present) == "observed_no_401k"
    assert report.counterfactual_of("baseline", present) == "no_401k"
    assert report.counterfactual_of("tdf_default", present) == "no_401k"
    assert report.counterfactual_of("observed_no_401k", present) is None
    assert report.counterfactual_of("observed", {"observed", "no_401k"}) == "no_401k"
    rows, params = [], []
    for scenario, vol in (("baseline", 0.5), ("no_401k", 0.6), ("observed", 0.4), ("observed_no_401k", 0.3)):
        for seed in range(5):
            run_id = f"{scenario}.r{seed}"
            rows.append({"run_id": run_id, "arm": scenario, "scenario": scenario, "return_vol_4q": vol})
            params.append({"run_id": run_id, "seed": seed, "params_json": "{}"})
    table = report.paired_volatility(pd.DataFrame(rows), pd.DataFrame(params)).set_index("arm")
    assert np.isclose(table.loc["baseline", "diff_median"], -0.1)  # against no_401k
    assert np.isclose(table.loc["observed", "diff_median"], 0.1)  # against observed_no_401k
    assert set(table.index) == {"baseline", "observed"}


def test_the_point_and_posterior_arms_pair_within_their_own_draw():
    # the two arms share seeds: exposure saves 10 of 100 at the point and none over the posterior
    point = runs([True] * 40 + [False] * 60, [False] * 10 + [True] * 30 + [False] * 60).assign(
        draw="point", particle=np.nan
    )
    posterior = runs([True] * 20 + [False] * 80, [True] * 20 + [False] * 80).assign(draw="posterior")
    posterior["particle"] = (posterior["seed"] % 7).astype(str)
    effect = report.exposure_effect(pd.concat([point, posterior], ignore_index=True)).set_index("scenario")
    assert list(effect.index) == ["baseline", "baseline (posterior)"]
    assert list(effect["pairs"]) == [100, 100]  # not 400 cross-draw pairs
    assert effect.loc["baseline", "saved"] == 10 and effect.loc["baseline (posterior)", "saved"] == 0
    assert effect.loc["baseline (posterior)", "lost_without"] == 0.20
