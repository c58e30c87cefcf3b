"""Simulator families, one subpackage each.

A family's ``registration.py`` holds only ``register(...)`` calls with lazy ``"module:attr"``
factories; it is found here by listing the subpackages, so adding a family changes no other file and
``import dsegym`` imports no simulator.
"""
import importlib
import importlib.util
import pkgutil

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    if _info.ispkg and importlib.util.find_spec(f"{__name__}.{_info.name}.registration") is not None:
        importlib.import_module(f"{__name__}.{_info.name}.registration")
