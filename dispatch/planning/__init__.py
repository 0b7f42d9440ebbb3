"""Planning desk (issue 9): coverage and blind spots (``coverage``, ``coverage_cli``), where to put
facilities (``location``), how much to hold."""
