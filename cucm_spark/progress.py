"""Progress on stderr while the inventory runs: a spinner on a terminal, nothing otherwise."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn


@contextmanager
def progress_reporter(title: str) -> Iterator[Callable[[str], None]]:
    """Yield ``step(message)``: shown live on a terminal, silent when stderr is not one."""
    if not sys.stderr.isatty():
        yield lambda _message: None
        return
    console = Console(file=sys.stderr)
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task(title)
        yield lambda message: progress.update(task, description=f"{title}: {message}")
