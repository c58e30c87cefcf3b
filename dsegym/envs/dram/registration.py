"""Built-in DRAM problems (lazy: nothing here imports the simulator)."""
from dsegym.registry import register

register("dram", "dsegym.envs.dram.problems:make_dram_problem",
         kwargs={"trace": "stream", "memory": "DDR3-1600"},
         description="DRAM controller (10 DRAMSys knobs) on any trace: trace=PATH|DataFrame|name, memory=...",
         tags=("dram",))
for _trace, _what in (("stream", "sequential 64 B reads"), ("random", "uniform random 64 B reads in 1 GiB"),
                      ("cloud1", "short sequential/random phases, ~50% sequential"),
                      ("cloud2", "long sequential/random phases, ~50% sequential")):
    register(f"dram-{_trace}", "dsegym.envs.dram.problems:make_dram_problem",
             kwargs={"trace": _trace, "memory": "DDR3-1600"},
             description=f"DRAM controller on ArchGym's {_trace} trace ({_what}), 10,000 reads, DDR3-1600",
             tags=("dram", "archgym"))
