"""model/quantiles.py gives numpy's median and percentiles bit for bit, from one partition."""

import numpy as np
import pytest

from model.quantiles import order_statistics


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 19, 20, 21, 100, 101, 997, 20_000])
def test_order_statistics_equal_numpy(n):
    rng = np.random.default_rng(n)
    for x in (rng.lognormal(0.0, 0.2, n), np.round(rng.normal(1.0, 0.01, n), 3), np.ones(n)):
        median, (p5, p50, p95) = order_statistics(x, (5.0, 50.0, 95.0))
        assert median == np.median(x)
        assert p5 == np.percentile(x, 5) and p50 == np.percentile(x, 50) and p95 == np.percentile(x, 95)


def test_the_input_is_left_unchanged():
    x = np.array([3.0, 1.0, 2.0])
    order_statistics(x, (5.0,))
    assert x.tolist() == [3.0, 1.0, 2.0]


@pytest.mark.parametrize("ones", [0, 1, 2, 7, 500])
@pytest.mark.parametrize("n", [0, 1, 2, 3, 10, 11, 400])
def test_values_merged_with_exact_ones_equal_numpy(n, ones):
    if n + ones == 0:
        return
    rng = np.random.default_rng(100 * n + ones)
    x = np.concatenate([rng.lognormal(0.0, 0.1, n), np.ones(n // 5)])  # some holders exactly at 1
    everyone = np.concatenate([x, np.ones(ones)])
    median, (p5, p95) = order_statistics(x, (5.0, 95.0), ones=ones)
    assert median == np.median(everyone)
    assert p5 == np.percentile(everyone, 5) and p95 == np.percentile(everyone, 95)
