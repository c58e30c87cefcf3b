"""Built-in DRAM problems (lazy: nothing here imports the simulator)."""
from dsegym.registry import register

_TRACES = (("stream", "sequential 64 B reads"), ("random", "uniform random 64 B reads in 1 GiB"),
           ("cloud1", "short sequential/random phases, ~50% sequential"),
           ("cloud2", "long sequential/random phases, ~50% sequential"))

register("dram", "dsegym.envs.dram.problems:make_dram_problem",
         kwargs={"trace": "stream", "memory": "DDR3-1600"},
         description="DRAM controller (7 knobs; energy, latency, controller area) on any trace: "
                     "trace=PATH|DataFrame|name, memory=...",
         tags=("dram",))
register("archgym-dram", "dsegym.envs.dram.problems:make_archgym_problem",
         kwargs={"trace": "stream", "memory": "DDR3-1600"},
         description="ArchGym's DRAMSys space (10 knobs; energy, power, total time) on any trace",
         tags=("dram", "archgym"))
for _trace, _what in _TRACES:
    register(f"dram-{_trace}", "dsegym.envs.dram.problems:make_dram_problem",
             kwargs={"trace": _trace, "memory": "DDR3-1600"},
             description=f"DRAM controller on the {_trace} trace ({_what}), 10,000 reads, DDR3-1600; "
                         f"energy, latency and controller area",
             tags=("dram",))
    register(f"archgym-dram-{_trace}", "dsegym.envs.dram.problems:make_archgym_problem",
             kwargs={"trace": _trace, "memory": "DDR3-1600"},
             description=f"ArchGym's DRAMSys setup on its {_trace} trace ({_what}): 10 knobs, "
                         f"energy / power / total time",
             tags=("dram", "archgym"))
