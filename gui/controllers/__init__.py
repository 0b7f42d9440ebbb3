"""Thin QObject controllers: they run the Qt-free services of :mod:`gui.services` and
:mod:`gis.workspace_service` through :class:`gui.workers.JobRunner`, own the state machines
(generation counters, deferred requests, stale results dropped) and report with typed signals.
Windows and docks connect to them; the controllers never touch a widget.
"""
