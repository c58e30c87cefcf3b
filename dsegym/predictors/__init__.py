"""Learned cost models: MLP, transformer and GNN predictors, proxy problems and design recommendation.

Torch (and torch-geometric, for the GNN) are imported on first use of a predictor.

>>> from dsegym.predictors import KINDS
>>> KINDS
('mlp', 'transformer', 'gnn')
"""
from __future__ import annotations

import importlib

KINDS = ("mlp", "transformer", "gnn")
_EXPORTS = {"train": "model", "load": "model", "Predictor": "model", "ModelFileError": "model",
            "regression_metrics": "metrics", "evaluate": "evaluation", "recommend": "recommender",
            "make_proxy": "proxy"}
__all__ = ["KINDS", "ModelFileError", "Predictor", "evaluate", "load", "make_proxy", "recommend",
           "regression_metrics", "train"]


def __getattr__(name):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
