"""Planning desk (issue 9): coverage and blind spots (``coverage``, ``coverage_cli``), where to put
facilities (``location``, ``pmedian``; OR-Library benchmark readers in ``orlib``), how much to
hold."""
