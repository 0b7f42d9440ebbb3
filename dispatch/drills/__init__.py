"""Drills (演练): a timed script of injects applied to a copy of a scenario, optionally re-planned
at each inject with the dispatch pipeline, scored and reported (DESIGN.md §7).

- :mod:`dispatch.drills.script` — the drill script JSON, validated against the scenario;
- :mod:`dispatch.drills.runner` — applies the injects in time order and re-plans (``--auto``);
- :mod:`dispatch.drills.scorecard` — per-step and overall figures;
- :mod:`dispatch.drills.report` — report.pdf and report.xlsx;
- :mod:`dispatch.drills.cli` — ``python app.py drill WS --script S --out DIR``;
- :mod:`dispatch.drills.compare` and :mod:`dispatch.drills.compare_cli` — two plans or two drill
  runs side by side (``python app.py compare A B --out DIR``);
- :mod:`dispatch.drills.maps` — overview-map layers (per step, two plans);
- :mod:`dispatch.drills.review` and :mod:`dispatch.drills.review_cli` — the after-action review
  (复盘) of a workspace's event log (``python app.py review WS --out DIR``).
"""
