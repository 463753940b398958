"""Batches of model runs: experiment files, the resumable runner, the Parquet store, reports.

Public entry points (other packages code against these names):
- `spec.RunSpec` (carries its scenario with the content of its input files, and run-level
  `inputs`; `to_plain`/`from_plain`), `spec.derive_seed`
- `experiment_file.load_experiment(path) -> Experiment` (`.runs() -> list[RunSpec]`)
- `runner.run_batch(runs, out_dir, workers=, dask_address=, progress=, rerun_changed=) ->
  BatchSummary`; `runner.execute_run` and `runner.code_version` are `task`'s
- `task`: the engine's leaf: `execute_run(spec) -> DataFrame`, `run_task(spec)` (a worker's
  task), `code_version()` (the code fingerprint stored with every run)
- `store.load_results(out_dir, sql=None) -> DataFrame` (DuckDB views `runs`, `catalogue` and
  `inputs`), `store.run_inputs(out_dir, run_id)` (the input files that produced a run)
- `cluster.DaskEngine`: run_batch's Dask engine; ships the checkout to workers that lack it and
  refuses workers on other code or library versions (`worker_code` is what runs on the workers)

Imports run one way: runner -> cluster -> worker_code, and each of them -> task (worker_code by
name); tests/test_layout.py checks it, function-level and by-name imports included.
"""
