"""Search agents behind one ask/tell interface.

>>> import dsegym
>>> from dsegym import agents
>>> "random" in agents.list_agents()
True
>>> agent = agents.make("random", dsegym.make("accel-resnet18"), seed=1)
>>> len(agent.ask(3))
3
"""
from __future__ import annotations

from .base import Agent, run_search
from .registry import agent_class, agent_info, list_agents, make, register_agent

__all__ = ["Agent", "agent_class", "agent_info", "list_agents", "make", "register_agent", "run_search"]
