"""Routing engines behind one protocol (:class:`dispatch.routing.engines.base.Engine`).

- :mod:`~dispatch.routing.engines.pyvrp`: PyVRP, one model per pickup depot;
- :mod:`~dispatch.routing.engines.ortools`: OR-Tools model builders (cvrp, vrptw, emergency)
  solved in a hard-stopped child process (:mod:`dispatch.child_process`);
- :mod:`~dispatch.routing.engines.hybrid`: PyVRP first, then OR-Tools warm-started from it.
"""
