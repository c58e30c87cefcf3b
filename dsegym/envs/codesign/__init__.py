"""NAS / quantisation co-design: small CNNs on scikit-learn's digits, trained for real, quantised per
layer, and run on the accelerator model.

Importing this package is cheap; torch and scikit-learn load on first use.

>>> from dsegym.envs import codesign
>>> codesign.NetArch(2, 8, 2, 3, True).channels
(8, 16)
"""
from ..._lazy import lazy_exports

_EXPORTS = {
    "NetArch": "network", "ARCHITECTURES": "network", "WEIGHT_BITS": "network", "ACT_BITS": "network",
    "load_digits_split": "digits",
    "AccuracyOracle": "accuracy", "build_table": "accuracy", "default_cache_dir": "cache",
    "PROXIES": "proxies", "proxy_scores": "proxies",
}
__all__ = sorted(_EXPORTS)


__getattr__ = lazy_exports(__name__, _EXPORTS, globals())
