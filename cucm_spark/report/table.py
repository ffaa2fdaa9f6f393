"""The terminal report: what an administrator reads first, as rich tables."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table

from cucm_spark.audit import Audit
from cucm_spark.inventory.model import DeviceKind


class TableFormat:
    """Plain text when not on a terminal (no colour codes), colour when it is."""

    def __init__(self, color: bool = False, width: int = 100) -> None:
        self.color = color
        self.width = width

    def render(self, audit: Audit) -> str:
        out = io.StringIO()
        console = Console(file=out, force_terminal=self.color, no_color=not self.color,
                          width=self.width, highlight=False)
        console.print(f"[bold]Cluster[/] {audit.cluster}")
        console.print(f"[bold]Release[/] {audit.release} ({audit.release_name}); inventory read by {audit.source}")
        console.print(_support_line(audit))
        console.print(_counts(audit))
        console.print(_licences(audit))
        console.print(_temporary(audit))
        cti = _cti_rds(audit)
        if cti.row_count:
            console.print(cti)
        return out.getvalue()


def _support_line(audit: Audit) -> str:
    if audit.spark_rd_supported:
        return f"[green]Spark Remote Devices supported[/] (minimum for this train: {audit.spark_rd_minimum})"
    target = f"; upgrade to {audit.upgrade_target} or later" if audit.upgrade_target else ""
    return f"[red]Spark Remote Devices not supported on this release[/]{target}"


def _counts(audit: Audit) -> Table:
    table = Table(title="Inventory", title_justify="left")
    labels = {
        "users": "Users", "devices": "Devices", "desk_phones": "Desk phones", "jabber": "Jabber clients",
        "cti_rd": "CTI Remote Devices", "cti_rd_hybrid": "  of which Hybrid Call",
        "cti_rd_unowned": "  of which without owner", "spark_rd": "Spark Remote Devices",
        "unowned_devices": "Devices without owner",
    }
    table.add_column("")
    table.add_column("count", justify="right")
    counts = audit.counts
    for key, label in labels.items():
        table.add_row(label, str(counts[key]))
    return table


def _licences(audit: Audit) -> Table:
    lic = audit.licensing
    table = Table(title=f"User licences ({lic.naming.value.upper()} naming)", title_justify="left")
    for name in ("tier", "now", "after migration", "change"):
        table.add_column(name, justify="left" if name == "tier" else "right")
    for tier, now in lic.now.items():
        after = lic.after_migration[tier]
        table.add_row(tier, str(now), str(after), f"{after - now:+d}" if after != now else "")
    table.add_row("extra device licences", str(lic.extra_device_licences_now),
                  str(lic.extra_device_licences_after), "")
    device_only = sum(lic.device_only_now.values())
    table.add_row("device-only licences", str(device_only), str(sum(lic.device_only_after.values())), "")
    return table


def _temporary(audit: Audit) -> str:
    lic = audit.licensing
    request = lic.temporary_request
    lines = [f"[bold]Deficiency[/]: {lic.deficiency.users} users are on a higher tier because of CTI-RDs"]
    if lic.deficiency.transitions:
        lines.append("  " + ", ".join(f"{k}: {v}" for k, v in sorted(lic.deficiency.transitions.items())))
    seats = "no seat cap given" if request.spark_seats is None else f"{request.spark_seats} Spark seats"
    lines.append(
        f"[bold]Temporary licence request[/] ({seats}): {request.enhanced_plus} Enhanced Plus, "
        f"{request.cuwl_standard} CUWL Standard; {request.users_covered} users covered, "
        f"{request.users_uncovered} uncovered; resolve within {request.resolution_window_days} days of expiry"
    )
    return "\n".join(lines)


def _cti_rds(audit: Audit) -> Table:
    table = Table(title="CTI Remote Devices", title_justify="left")
    for name in ("device", "owner", "use", "remote destinations"):
        table.add_column(name)
    for device in audit.inventory.devices:
        if device.kind is not DeviceKind.CTI_RD:
            continue
        use = "Hybrid Call" if device.hybrid else ("Extend and Connect" if device.remote_destinations else "none")
        destinations = ", ".join(d.destination for d in device.remote_destinations) or "-"
        table.add_row(device.name, device.owner or "(no owner)", use, destinations)
    return table
