"""Batches of model runs: experiment files, the resumable runner, the Parquet store, reports.

Public entry points (other packages code against these names):
- `spec.RunSpec`, `spec.derive_seed`
- `experiment_file.load_experiment(path) -> Experiment` (`.runs() -> list[RunSpec]`)
- `runner.run_batch(runs, out_dir, workers=, dask_address=, progress=) -> BatchSummary`,
  `runner.execute_run(spec) -> DataFrame`
- `store.load_results(out_dir, sql=None) -> DataFrame` (DuckDB views `runs` and `catalogue`)
- `cluster.DaskEngine`: run_batch's Dask engine; ships the checkout to workers that lack it and
  refuses workers on other code (`worker_code` is what runs on the workers)
"""
