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
reads the share of all coworkers holding, w x F. The reduction and the fit are the validation
report's own (experiments/reports/validity_checks.py), so the report's Bass section is tested here.
"""

from __future__ import annotations

import pytest

from experiments.reports.validity_checks import bass_curve, fit_bass


@pytest.mark.parametrize("innovation,imitation", [(0.02, 0.5), (0.05, 0.2), (0.01, 1.0)])
def test_everyone_wanting_crypto_gives_back_p_and_q(innovation, imitation):
    adoption, wants = bass_curve(innovation, imitation, affinity_mean=5.0, affinity_sd=0.01)
    assert wants == pytest.approx(1.0)
    p, q = fit_bass(adoption, 1.0)
    assert p == pytest.approx(innovation, rel=0.1)
    assert q == pytest.approx(imitation, rel=0.1)


def test_imitation_is_scaled_by_the_share_who_would_ever_want_crypto():
    innovation, imitation = 0.02, 0.8
    adoption, wants = bass_curve(innovation, imitation, affinity_mean=0.0, affinity_sd=3.0, quarters=32)
    assert 0.3 < wants < 0.7
    assert adoption[-1] == pytest.approx(wants, abs=0.03)  # everyone who wants it adopts in the end
    p, q = fit_bass(adoption, wants)
    assert p == pytest.approx(innovation, rel=0.15)
    assert q == pytest.approx(imitation * wants, rel=0.15)  # q_eff = imitation x w, not imitation
