"""Random search: independent draws from the space's prior (log-uniform on log-scale parameters)."""
from __future__ import annotations

from .base import Agent


class RandomSearch(Agent):
    """Uniform random search over the declared space, honouring its constraints.

    >>> import dsegym
    >>> from dsegym.agents import make
    >>> a = make("random", dsegym.make("accel-resnet18"), seed=0)
    >>> a.ask(2) == make("random", dsegym.make("accel-resnet18"), seed=0).ask(2)
    True
    """

    name = "random"
    family = "random"
    description = "independent draws from the space's prior; the baseline every agent must beat"

    def _ask(self, n):
        return self._sample(n)
