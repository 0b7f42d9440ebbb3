"""The one place ReliefDesk's version is written.

``pyproject.toml`` reads ``__version__`` from here (``[tool.setuptools.dynamic]``), so the
installed metadata, ``app.py --version``, the About box, ``plan.json`` (``inputs.software``) and
the PDF footers all agree, from a source checkout, an installed wheel or a frozen bundle alike.
Qt-free and import-free: safe to import before anything else. History: ``CHANGELOG.md``.
"""

__version__ = "0.2.0"

SOFTWARE = f"ReliefDesk {__version__}"
