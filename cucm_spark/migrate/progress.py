"""A run's progress on stderr: a bar, one line per worker, each user's outcome; plain lines off a terminal.

On a terminal, an administrator watching a long run wants to see that it moves, how fast,
what each worker is doing this second, and every user's outcome as it comes, without the
lines of a thousand users burying the bar. Off a terminal (a log file, CI, a pipe) a
live display is noise: each user's outcome is one plain line, as before.
"""

from __future__ import annotations

import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console, RenderableType
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.text import Text

from cucm_spark.migrate.executor import UserOutcome, Watcher
from cucm_spark.migrate.pacing import Pacer
from cucm_spark.migrate.plan import Step, UserPlan

Report = Callable[[str], None]
IDLE = "idle"


class RunProgress:
    """The live display of one run; a Watcher, called from the worker threads."""

    def __init__(self, progress: Progress, title: str, total: int, workers: int, pacer: Pacer | None) -> None:
        self._progress = progress
        self._pacer = pacer
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._overall = progress.add_task(title, total=total, status="")
        self._free = [progress.add_task("", total=None, status=IDLE, worker=True) for _ in range(workers)]
        self._rows: dict[int, TaskID] = {}

    def report(self, line: str) -> None:
        """A finished user's line, printed above the live display."""
        self._progress.console.print(line, markup=False, highlight=False)

    def _row(self) -> TaskID | None:
        """The display line of the calling worker thread (each thread takes one on its first user)."""
        with self._lock:
            ident = threading.get_ident()
            if ident not in self._rows and self._free:
                self._rows[ident] = self._free.pop(0)
            return self._rows.get(ident)

    def user_started(self, user: UserPlan) -> None:
        row = self._row()
        if row is not None:
            self._progress.update(row, status=f"{user.userid}: reading its devices")

    def step_started(self, user: UserPlan, idx: int, step: Step) -> None:
        row = self._row()
        if row is not None:
            self._progress.update(row, status=f"{user.userid}: step {idx + 1}/{len(user.steps)} {step.description}")

    def user_finished(self, user: UserPlan, outcome: UserOutcome) -> None:
        with self._lock:
            self._counts[outcome.status.value] += 1
            counts = ", ".join(f"{status} {n}" for status, n in sorted(self._counts.items()))
        pace = ""
        if self._pacer is not None:
            pace = f"  pace {self._pacer.rate:.0f} writes/s, 503s met {self._pacer.stats.refused}"
        self._progress.update(self._overall, advance=1, status=counts + pace)
        row = self._row()
        if row is not None:
            self._progress.update(row, status=IDLE)


def _columns() -> tuple[ProgressColumn, ...]:
    """The bar for the run's line; the worker lines show only their status."""
    return (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[status]}", markup=False),
    )


@contextmanager
def run_progress(title: str, total: int, workers: int, pacer: Pacer | None,
                 plain: Report) -> Iterator[tuple[Watcher | None, Report]]:
    """Yield (watcher, report): a live display on a terminal; no watcher and ``plain`` lines otherwise."""
    if not sys.stderr.isatty():
        yield None, plain
        return
    console = Console(file=sys.stderr)
    with _WorkerAwareProgress(*_columns(), console=console, transient=True) as progress:
        display = RunProgress(progress, title, total, min(workers, total) or 1, pacer)
        yield display, display.report


class _WorkerAwareProgress(Progress):
    """A Progress whose worker lines are indented text, without a bar of their own."""

    def get_renderables(self) -> Iterator[RenderableType]:
        yield self.make_tasks_table([task for task in self.tasks if not task.fields.get("worker")])
        for task in self.tasks:
            if task.fields.get("worker"):
                status = str(task.fields.get("status", ""))
                yield Text(f"  {status}", style="dim" if status == IDLE else "", no_wrap=True, overflow="ellipsis")


def pacing_summary(pacer: Pacer, seconds: float, workers: int) -> str:
    """One line on how the writes went: for the administrator, and for the benchmark to read."""
    stats = pacer.stats
    cuts = f"; slowed down {stats.cuts} time(s), {stats.cuts_undone} undone as noise" if stats.cuts else ""
    return (f"Writes: {stats.passed} let through, {stats.refused} answered HTTP 503 and sent again; "
            f"{seconds:.1f} s with {workers} worker(s); pace at the end {pacer.rate:.1f} writes/s{cuts}")
