import os
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
# Trained co-design networks are cached here, shared by every test, worker and run (keyed by library
# versions and written atomically), and never in the user's ~/.cache.
os.environ.setdefault("DSEGYM_CACHE_DIR", os.path.join(tempfile.gettempdir(), "dsegym-test-cache"))

try:
    import torch

    torch.set_num_threads(1)
except ImportError:  # torch is a dependency; this only keeps collection working without it
    pass
