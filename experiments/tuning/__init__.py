"""Sensitivity analysis (SALib) and calibration by simulated moments (optuna).

Modules: `moments` (statistics of a run's quarters table), `targets` (the calibration target
file), `space` (which parameters vary and over what range), `runs` (model runs through the
batch runner), `sensitivity`, `calibrate`, `writers` (tables, plots, scenario files) and `cli`.
"""
