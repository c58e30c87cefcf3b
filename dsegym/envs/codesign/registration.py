"""Registers the co-design problems (lazily: nothing is imported until one is made)."""
from ...registry import register

register("codesign-digits", "dsegym.envs.codesign.problems:make_codesign_problem", tags=("codesign",),
         description="CNN x per-layer bits x accelerator on digits; accuracy from real training")
register("quant-digits", "dsegym.envs.codesign.problems:make_quant_problem", tags=("codesign",),
         description="per-layer bits x accelerator for a fixed digits CNN (FLIQS style)")
