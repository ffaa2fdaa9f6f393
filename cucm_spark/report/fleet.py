"""Terminal renderings for scheduled audits: the run summary, drift, the history trend."""

from __future__ import annotations

import io
from collections.abc import Sequence

from rich.console import Console
from rich.table import Table

from cucm_spark.history import Drift, HistoryRow


def _text(*renderables: object, color: bool = False) -> str:
    out = io.StringIO()
    console = Console(file=out, force_terminal=color, no_color=not color, width=120, highlight=False)
    for renderable in renderables:
        console.print(renderable)
    return out.getvalue()


def summary_table(rows: Sequence[dict[str, object]], color: bool = False) -> str:
    """One line per cluster of the run: its numbers, or why it has none."""
    table = Table(title="Clusters audited", title_justify="left")
    for name in ("cluster", "release", "Spark-RD", "users", "CTI-RD", "hybrid", "Spark-RDs",
                 "deficiency", "temp E+/CUWL", "status"):
        table.add_column(name, justify="left" if name in ("cluster", "release", "status") else "right")
    for row in rows:
        table.add_row(*(str(row.get(key, "")) for key in (
            "cluster", "release", "spark_rd", "users", "cti_rd", "cti_rd_hybrid", "spark_rds",
            "deficiency", "temporary", "status")))
    return _text(table, color=color)


def drift_text(cluster: str, drift: Drift | None) -> str:
    """What changed on one cluster since its previous audit."""
    if drift is None:
        return f"{cluster}: first audit on record, nothing to compare\n"
    if drift.empty:
        return f"{cluster}: no change since the previous audit\n"
    lines = [f"{cluster}: changes since the previous audit"]
    for label, changes in (("CTI-RD added", drift.cti_rd_added), ("CTI-RD removed", drift.cti_rd_removed),
                           ("Spark-RD added", drift.spark_rd_added), ("Spark-RD removed", drift.spark_rd_removed)):
        lines += [f"  {label}: {c.name} (owner {c.owner or 'none'})" for c in changes]
    lines += [f"  tier of {c.userid}: {c.old or 'none'} -> {c.new or 'none'}" for c in drift.tier_changes]
    return "\n".join(lines) + "\n"


def history_table(rows: Sequence[HistoryRow], color: bool = False) -> str:
    """The trend: one line per recorded audit, oldest first."""
    table = Table(title="Audit history", title_justify="left")
    for name in ("cluster", "taken at (UTC)", "users", "CTI-RD", "hybrid", "Spark-RD", "deficiency"):
        table.add_column(name, justify="left" if name in ("cluster", "taken at (UTC)") else "right")
    for row in rows:
        table.add_row(row.cluster, row.taken_at.strftime("%Y-%m-%d %H:%M"), str(row.users), str(row.cti_rd),
                      str(row.cti_rd_hybrid), str(row.spark_rd), str(row.deficiency_users))
    return _text(table, color=color)
