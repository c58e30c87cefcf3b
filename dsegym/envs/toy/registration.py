"""Registers the toy problems (lazily: nothing here imports their module)."""
from ...registry import register

register("toy-accel", "dsegym.envs.toy.problems:make_toy_accel", tags=("toy",),
         description="cartoon accelerator with 420 valid designs (tests, docs)")
register("toy-rastrigin", "dsegym.envs.toy.problems:make_toy_rastrigin", tags=("toy",),
         description="multimodal integer landscape with 50,625 designs")
