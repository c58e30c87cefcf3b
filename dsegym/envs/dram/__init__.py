"""DRAM memory-controller family: DRAMSys' ten controller knobs over DDR3/DDR4/LPDDR4 traces.

Importing this package is cheap; numba and the model load on first use of an attribute.

>>> from dsegym.envs import dram
>>> sorted(dram.DEVICES)
['DDR3-1600', 'DDR4-2400', 'LPDDR4-3200']
>>> dram.simulate([{"PagePolicy": "Closed"}], trace="stream", n=256)["row_hit_rate"].item()
0.0
"""
from ..._lazy import lazy_exports

_EXPORTS = {
    "DEVICES": "devices", "DramDevice": "devices", "get_device": "devices",
    "command_energies_nj": "power", "background_power_w": "power",
    "make_trace": "traces", "load_trace": "traces", "load_stl": "traces", "load_ramulator": "traces",
    "save_stl": "traces", "save_ramulator": "traces", "as_trace": "traces", "trace_hash": "traces",
    "GENERATORS": "traces",
    "DramModel": "model", "simulate": "model", "decode": "model", "METRICS": "model", "clear_cache": "model",
    "make_space": "space", "KNOBS": "space", "DEFAULT": "space",
    "make_dram_problem": "problems", "make_archgym_problem": "problems", "TraceWarning": "traces",
    "controller_cost": "cost", "SEARCHED": "space", "FIXED": "space",
}
__all__ = [name for name in sorted(_EXPORTS)]  # a list comprehension, as ruff PLE0605 wants


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
