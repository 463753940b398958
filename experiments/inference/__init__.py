"""Bayesian calibration: ABC-SMC with pyabc (`crypto401k calibrate --method abc`).

One module per concept, after pyABC's own layout:

- `priors`: the prior of each calibrated parameter (uniform over its declared range, or a range
  a target file narrows with a reason; halved and doubled for the prior-sensitivity check);
- `simulator`: the picklable model a particle runs (the batch task, once per seed) and the
  targets' statistics it returns;
- `distance`: the targets' error model as a pyabc stochastic kernel (the optuna fit's objective);
- `samplers`: `--workers` and `--dask` mapped onto pyabc samplers (a spawn pool that ignores
  Ctrl-C like the batch runner's, or a Dask cluster given this checkout's code);
- `smc`: the ABC-SMC run in a folder's SQLite history: new, resumed, stopped by a budget;
- `posterior`: the only reader of pyabc's history; it exports the plain posterior table
  (experiments/posterior_table.py) that the rest of the project reads;
- `diagnostics`: identification (prior vs posterior, contraction, shift, effective sample size);
- `predictive`: the posterior predictive check; `recovery`: coverage on synthetic targets;
  `prior_check`: the posterior under halved and doubled priors;
- `plots` and `report`: figures and the Markdown report.

Only this package imports pyabc (an import-linter contract in pyproject.toml).
"""
