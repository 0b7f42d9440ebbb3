"""What the planning dialogs (覆盖分析, 选址, 储备测算, 预警与预置) share: read-only table cells and
the end of a background job (re-enable the run button; failure text, 已取消, or the result).

Each dialog keeps ``run_button``, ``status`` and ``show_result(result)``; the job itself runs in
the window's :class:`~gui.workers.JobRunner` as before. A window has at most one dialog of each
kind: the menu actions call :meth:`JobDialog.open_for`, which opens it or raises it.
"""

from __future__ import annotations

from typing import Any, Self

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDialog, QTableWidgetItem

from gui.i18n import tr

__all__ = ["JobDialog", "read_only_item"]


def read_only_item(value: Any) -> QTableWidgetItem:
    """A read-only plain-text cell (numbers right-aligned)."""
    it = QTableWidgetItem(str(value))
    it.setFlags(it.flags() & ~Qt.ItemFlag.ItemIsEditable)
    if isinstance(value, int | float):
        it.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
    return it


class JobDialog(QDialog):
    """A dialog that runs one background job at a time and shows its result.

    ``show_partial``: a cancelled job's best result so far is shown (the location models return
    one); otherwise a cancelled job only says 已取消.
    """

    show_partial = False

    @classmethod
    def open_for(cls, window: Any) -> Self:
        """Open (or raise) ``window``'s one non-modal dialog of this class.

        The dialog is made on first use and kept on the window (``window._job_dialogs``, one per
        class); every call refreshes it (the workspace may have changed since), shows it and
        raises it.
        """
        dialogs: dict[type, JobDialog] | None = getattr(window, "_job_dialogs", None)
        if dialogs is None:
            dialogs = {}
            window._job_dialogs = dialogs
        dialog = dialogs.get(cls)
        if dialog is None:
            dialog = cls(window)
            dialogs[cls] = dialog
        dialog.refresh()
        dialog.show()
        dialog.raise_()
        return dialog  # type: ignore[return-value]

    def refresh(self) -> None:
        """Re-read what the dialog shows from the window before it is shown again (default:
        nothing; the 预警与预置 dialog re-reads the workspace's warnings)."""

    def show_result(self, result: Any) -> None:  # pragma: no cover - each dialog defines it
        raise NotImplementedError

    def _failed(self, message: str, _details: str) -> None:
        self.run_button.setEnabled(True)
        self.status.setText(message)

    def _done(self, result: Any, cancelled: bool) -> None:
        self.run_button.setEnabled(True)
        if result is None or (cancelled and not self.show_partial):
            self.status.setText(tr("已取消"))
            return
        self.show_result(result)
