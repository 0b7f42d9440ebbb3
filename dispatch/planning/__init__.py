"""Planning desk solvers (issue 9): where to put facilities (``location``, ``pmedian``), file
readers for the OR-Library location benchmarks (``orlib``)."""
