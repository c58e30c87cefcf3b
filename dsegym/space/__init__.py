"""Design spaces: typed parameters, constraints between them, and every encoding agents need.

The public API lives in three small modules, re-exported here: :mod:`~dsegym.space.parameters`
(Categorical, Ordinal, PowerOfTwo, Integer, Float), :mod:`~dsegym.space.constraints` (Constraint)
and :mod:`~dsegym.space.design_space` (DesignSpace).

A space is declared once; Gymnasium (``nvec``), Optuna (``optuna_distributions``), continuous agents
(``to_unit``), evolutionary agents (``to_index``) and datasets (``to_frame``) all derive from it, so no
agent can search a different range than another.

>>> space = DesignSpace([
...     Integer("rows", 4, 256, log=True, default=32, group="compute"),
...     Categorical("dataflow", ["ws", "os", "is"], group="compute"),
...     PowerOfTwo("sram_kb", 8, 1024, default=64, group="memory"),
... ], constraints=[Constraint("small_array_small_sram",
...                            lambda d: (d["rows"] >= 16) | (d["sram_kb"] <= 256),
...                            "arrays under 16 rows take at most 256 KB of SRAM")])
>>> space.size
6072
>>> space.count_valid()
6000
>>> d = space.sample(1, seed=0)[0]
>>> space.from_index(space.to_index(d)) == d
True
"""
from .constraints import Constraint
from .design_space import Design, DesignSpace
from .parameters import Categorical, Float, Integer, Ordinal, Parameter, PowerOfTwo

__all__ = ["Categorical", "Constraint", "Design", "DesignSpace", "Float", "Integer", "Ordinal", "Parameter",
           "PowerOfTwo"]
