"""Learned cost models: MLP, transformer and GNN predictors, proxy problems and design recommendation.

Torch (and torch-geometric, for the GNN) are imported on first use of a predictor.

>>> from dsegym.predictors import KINDS
>>> KINDS
('mlp', 'transformer', 'gnn')
"""
from __future__ import annotations

from .._lazy import lazy_exports

KINDS = ("mlp", "transformer", "gnn")
_EXPORTS = {"train": "model", "load": "model", "Predictor": "model", "ModelFileError": "model",
            "regression_metrics": "metrics", "evaluate": "evaluation", "recommend": "recommender",
            "make_proxy": "proxy"}
__all__ = ["KINDS", "ModelFileError", "Predictor", "evaluate", "load", "make_proxy", "recommend",
           "regression_metrics", "train"]


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
