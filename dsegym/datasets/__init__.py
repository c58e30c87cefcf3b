"""Trial datasets: Parquet files of evaluated designs with their provenance, for cost models.

>>> import tempfile, os
>>> from dsegym.runner import run_experiment
>>> from dsegym.results import RunSpec
>>> d = tempfile.mkdtemp()
>>> _ = run_experiment([RunSpec("toy-accel", "random", seed=0, budget=5)], d, progress=False)
>>> info = export_results(d, os.path.join(d, "trials.parquet"))
>>> frame, meta = read_dataset(info["path"], problem="toy-accel")
>>> len(frame), meta["units"]["energy_uj"]
(5, 'uJ')
"""
from __future__ import annotations

from .collect import collect, collect_frame
from .parquet import DATASET_FORMAT, export_results, read_dataset, write_dataset
from .samplers import SAMPLERS, sample_designs

__all__ = ["DATASET_FORMAT", "SAMPLERS", "collect", "collect_frame", "export_results", "read_dataset",
           "sample_designs", "write_dataset"]
