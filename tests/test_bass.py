"""The diffusion core checked against theory: reduced to a Bass process, the model's adoption curve
recovers the innovation and imitation rates it was given.

Reduction: one employer offering crypto from quarter 0 (one fully mixed plan: the peer share is
the share of coworkers holding), no social contacts, no baseline or news attention, no
marketing, education every quarter (a constant external cue of 1), no menu reviews, no panic, no fee or price
feedback in choices, nobody retiring. A participant who attends and wants crypto adopts and
keeps holding. In discrete quarters the share F of adopters among those who ever want crypto
(a share w of all participants) then follows

    F_t = F_{t-1} + (1 - F_{t-1}) (1 - exp(-(p + q_eff F_{t-1})))

with p = innovation_strength x cue and q_eff = imitation_strength x w: the imitation hazard
reads the share of all coworkers holding, w x F.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import least_squares

from model.model import Crypto401kModel

REDUCED = {
    "n_employers": 1,
    "initial_offering_share": 1.0,
    "initial_uptake": 0.0,
    "social_degree": 0,
    "attention_base": 0.0,
    "news_attention": 0.0,
    "manager_marketing_strength": 0.0,
    "education_rate": 1.0,
    "menu_review_rate": 0.0,
    "panic_sensitivity": 0.0,
    "extrapolation": 0.0,
    "peer_weight": 0.0,
    "fee_sensitivity": 0.0,
    "crypto_vol_annual": 0.0,
    "crypto_drift_annual": 0.0,
    "retirement_age": 80.0,
    "retirement_age_sd": 0.0,
    "fraud_rate": 0.0,
}


def simulate(
    innovation: float,
    imitation: float,
    affinity_mean: float,
    affinity_sd: float,
    quarters: int = 24,
    seed: int = 0,
) -> tuple[np.ndarray, float]:
    """The adoption curve (share of all participants holding) and the share who want crypto."""
    m = Crypto401kModel(
        "baseline",
        rng=seed,
        n_participants=40_000,
        innovation_strength=innovation,
        imitation_strength=imitation,
        affinity_mean=affinity_mean,
        affinity_sd=affinity_sd,
        **REDUCED,
    )
    m.run(quarters)
    pop = m.population
    wants = float((pop.interest_by_employer * pop.n).sum() / pop.n)
    return m.quarters_table()["adoption_rate"].to_numpy(), wants


def fit_bass(adoption: np.ndarray, potential: float) -> tuple[float, float]:
    """(p, q) of the discrete Bass process that best fits the adopters' share of the potential."""
    share = adoption / potential

    def residuals(theta):
        p, q = theta
        f, out = share[0], []
        for t in range(1, len(share)):
            f = f + (1.0 - f) * -np.expm1(-(p + q * f))
            out.append(f - share[t])
        return np.array(out)

    return tuple(least_squares(residuals, x0=[0.05, 0.3], bounds=([0, 0], [5, 20])).x)


@pytest.mark.parametrize("innovation,imitation", [(0.02, 0.5), (0.05, 0.2), (0.01, 1.0)])
def test_everyone_wanting_crypto_gives_back_p_and_q(innovation, imitation):
    adoption, wants = simulate(innovation, imitation, affinity_mean=5.0, affinity_sd=0.01)
    assert wants == pytest.approx(1.0)
    p, q = fit_bass(adoption, 1.0)
    assert p == pytest.approx(innovation, rel=0.1)
    assert q == pytest.approx(imitation, rel=0.1)


def test_imitation_is_scaled_by_the_share_who_would_ever_want_crypto():
    innovation, imitation = 0.02, 0.8
    adoption, wants = simulate(innovation, imitation, affinity_mean=0.0, affinity_sd=3.0, quarters=32)
    assert 0.3 < wants < 0.7
    assert adoption[-1] == pytest.approx(wants, abs=0.03)  # everyone who wants it adopts in the end
    p, q = fit_bass(adoption, wants)
    assert p == pytest.approx(innovation, rel=0.15)
    assert q == pytest.approx(imitation * wants, rel=0.15)  # q_eff = imitation x w, not imitation
