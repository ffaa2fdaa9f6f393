"""The HTML report: one self-contained page over many clusters' audits (inline CSS and SVG, no script, no network).

Per cluster: the key counts, a bar chart of licence tiers now and after migration, a line
chart of CTI-RDs and Spark-RDs over the recorded history, the deficiency, the temporary
licence request, and the users to migrate (those owning a Hybrid Call CTI-RD). Every text
from a cluster or a document is escaped; a Content-Security-Policy forbids any fetch.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from typing import Any

from cucm_spark.history import HistoryRow

TIER_LABELS = {
    "essential": "Essential", "basic": "Basic", "enhanced": "Enhanced", "enhanced_plus": "Enhanced Plus",
    "cuwl_standard": "CUWL Standard", "hcs_foundation": "HCS Foundation", "hcs_standard": "HCS Standard",
}
NOW_COLOUR, AFTER_COLOUR = "#1f5f99", "#e07b24"
CTI_RD_COLOUR, SPARK_RD_COLOUR = "#c0392b", "#2e8b57"
_CHART_W, _CHART_H = 520, 250
_MARGIN = {"left": 46, "right": 14, "top": 30, "bottom": 46}

_CSS = """
:root { --ink: #1d2733; --muted: #5b6878; --line: #d8dee6; --soft: #f4f6f9; --warn: #fff4e0; --warn-ink: #8a4b00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: var(--ink); background: #fff; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; } h2 { font-size: 22px; margin: 0 0 4px; }
h3 { font-size: 16px; margin: 22px 0 8px; }
.meta, .note, figcaption { color: var(--muted); font-size: 13px; }
section.cluster { border-top: 3px solid var(--ink); margin-top: 36px; padding-top: 16px; }
.figures { display: flex; flex-wrap: wrap; gap: 12px; margin: 14px 0; }
.figure { background: var(--soft); border-radius: 6px; padding: 10px 16px; min-width: 130px; }
.figure .value { display: block; font-size: 26px; font-weight: 650; }
.figure .label { color: var(--muted); font-size: 13px; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 18px; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 10px; }
svg.chart { width: 100%; height: auto; display: block; }
svg.chart text { font: 11px system-ui, "DejaVu Sans", sans-serif; fill: var(--ink); }
.columns { display: grid; grid-template-columns: repeat(auto-fit, minmax(360px, 1fr)); gap: 24px; }
table { border-collapse: collapse; width: 100%; font-size: 14px; }
th, td { text-align: left; padding: 5px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { background: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tbody tr:nth-child(even) { background: #fafbfc; }
.warnings { background: var(--warn); color: var(--warn-ink); border-radius: 6px; padding: 8px 14px 8px 30px; }
.badge { display: inline-block; border-radius: 4px; padding: 0 6px; font-size: 12px; background: var(--soft); }
.badge.bad { background: #fde8e6; color: #9b2317; } .badge.good { background: #e5f4ea; color: #1d6b3a; }
@media print { section.cluster { break-before: page; } }
"""


@dataclass(frozen=True)
class ClusterReport:
    """What the page shows of one cluster: its latest audit document and its recorded trend."""

    name: str
    document: Mapping[str, Any] | None
    history: tuple[HistoryRow, ...] = ()
    warnings: tuple[str, ...] = ()
    error: str | None = None


class HtmlFormat:
    """The report page as a format: ``render(clusters) -> str``."""

    def render(self, clusters: Sequence[ClusterReport]) -> str:
        return render_html(clusters)


def render_html(clusters: Sequence[ClusterReport], generated_at: datetime | None = None,
                title: str = "cucm-spark audit report") -> str:
    """The whole page."""
    moment = (generated_at or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M %Z").strip()
    anchors = [f"c{index}-{re.sub(r'[^A-Za-z0-9_-]+', '-', c.name)}" for index, c in enumerate(clusters, 1)]
    sections = "\n".join(_cluster(c, anchor) for c, anchor in zip(clusters, anchors, strict=True))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n<main>\n"
        f"<header><h1>{escape(title)}</h1><p class=\"meta\">Generated {escape(moment)} · "
        f"{len(clusters)} cluster{'s' if len(clusters) != 1 else ''}</p></header>\n"
        f"{_summary(clusters, anchors)}\n{sections}\n</main>\n</body>\n</html>\n"
    )


def _num(document: Mapping[str, Any] | None, *keys: str) -> int:
    value: Any = document or {}
    for key in keys:
        value = value.get(key, {}) if isinstance(value, Mapping) else {}
    return value if isinstance(value, int) else 0


def _signed(number: int) -> str:
    return f"{number:+d}" if number else "0"


def _tier(key: str | None) -> str:
    return TIER_LABELS.get(key or "", (key or "—").replace("_", " ").title())


def _summary(clusters: Sequence[ClusterReport], anchors: list[str]) -> str:
    rows = []
    for cluster, anchor in zip(clusters, anchors, strict=True):
        doc = cluster.document
        temp = f"{_num(doc, 'temporary_license_request', 'enhanced_plus')} / " \
               f"{_num(doc, 'temporary_license_request', 'cuwl_standard')}"
        cells = [f"<td><a href=\"#{anchor}\">{escape(cluster.name)}</a></td>"]
        if doc is None:
            cells.append(f"<td colspan=\"6\">{escape(cluster.error or 'no audit recorded')}</td>")
        else:
            cti_rd = f"{_num(doc, 'counts', 'cti_rd')} ({_num(doc, 'counts', 'cti_rd_hybrid')})"
            cells += [f"<td>{escape(str(doc.get('cluster', {}).get('version', '')))}</td>",
                      f"<td class=\"num\">{cti_rd}</td>",
                      f"<td class=\"num\">{_num(doc, 'counts', 'spark_rd')}</td>",
                      f"<td class=\"num\">{_num(doc, 'counts', 'users')}</td>",
                      f"<td class=\"num\">{_num(doc, 'deficiency', 'users')}</td>",
                      f"<td class=\"num\">{temp}</td>"]
        rows.append(f"<tr>{''.join(cells)}</tr>")
    return ("<table class=\"summary\"><thead><tr><th>Cluster</th><th>Release</th>"
            "<th class=\"num\">CTI-RDs (Hybrid)</th>"
            "<th class=\"num\">Spark-RDs</th><th class=\"num\">Users</th><th class=\"num\">Deficiency users</th>"
            "<th class=\"num\">Temporary licences (Enh. Plus / CUWL Std)</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def _cluster(cluster: ClusterReport, anchor: str) -> str:
    doc = cluster.document
    parts = [f"<section class=\"cluster\" id=\"{anchor}\">", f"<h2>{escape(cluster.name)}</h2>"]
    if cluster.error:
        parts.append(f"<p class=\"warnings\">Latest audit failed: {escape(cluster.error)}</p>")
    if cluster.warnings:
        items = "".join(f"<li>{escape(w)}</li>" for w in cluster.warnings)
        parts.append(f"<ul class=\"warnings\">{items}</ul>")
    if doc is None:
        parts.append("<p class=\"note\">No audit of this cluster has been recorded.</p>")
        trend = _figure(_trend_chart(cluster.history), "CTI-RDs and Spark-RDs over the recorded audits")
        parts.append(f"<div class=\"charts\">{trend}</div></section>")
        return "\n".join(parts)
    parts.insert(2, _meta(doc, cluster.history))
    parts += [_figures(doc), "<div class=\"charts\">",
              _figure(_tier_chart(doc), "Users per licence tier, now and after migrating Hybrid CTI-RDs"),
              _figure(_trend_chart(cluster.history), "CTI-RDs and Spark-RDs over the recorded audits"),
              "</div>", "<div class=\"columns\">", _deficiency(doc), _temporary(doc), "</div>",
              _users_to_migrate(doc), "</section>"]
    return "\n".join(parts)


def _meta(doc: Mapping[str, Any], history: Sequence[HistoryRow]) -> str:
    info = doc.get("cluster", {})
    if info.get("spark_rd_supported"):
        support = "<span class=\"badge good\">supports Spark-RDs</span>"
    else:
        target = info.get("upgrade_to") or info.get("spark_rd_minimum")
        upgrade = f": upgrade to {escape(str(target))}" if target else ""
        support = f"<span class=\"badge bad\">no Spark-RDs on this release{upgrade}</span>"
    audited = f" · audited {history[-1].taken_at.strftime('%Y-%m-%d %H:%M UTC')}" if history else ""
    version, name = str(info.get("version", "")), str(info.get("version_name", ""))
    named = f" ({escape(name)})" if name and name != version else ""
    return (f"<p class=\"meta\">{escape(str(info.get('url', '')))} · release {escape(version)}{named} {support}"
            f" · licensing {escape(str(doc.get('licensing', '')).upper())}{escape(audited)}</p>")


def _figures(doc: Mapping[str, Any]) -> str:
    figures = [
        ("cti_rd", "CTI-RDs", _num(doc, "counts", "cti_rd")),
        ("cti_rd_hybrid", "Hybrid Call CTI-RDs", _num(doc, "counts", "cti_rd_hybrid")),
        ("spark_rd", "Spark-RDs", _num(doc, "counts", "spark_rd")),
        ("users", "Users", _num(doc, "counts", "users")),
        ("deficiency_users", "Users in deficiency", _num(doc, "deficiency", "users")),
    ]
    cards = "".join(f"<div class=\"figure\" data-key=\"{key}\"><span class=\"value\">{value}</span>"
                    f"<span class=\"label\">{label}</span></div>" for key, label, value in figures)
    return f"<div class=\"figures\">{cards}</div>"


def _figure(svg: str, caption: str) -> str:
    return f"<figure>{svg}<figcaption>{escape(caption)}</figcaption></figure>"


def _deficiency(doc: Mapping[str, Any]) -> str:
    now = doc.get("licenses", {}).get("now", {})
    after = doc.get("licenses", {}).get("after_migration", {})
    rows = "".join(
        f"<tr><td>{escape(_tier(tier))}</td><td class=\"num\">{now.get(tier, 0)}</td>"
        f"<td class=\"num\">{after.get(tier, 0)}</td>"
        f"<td class=\"num\">{_signed(now.get(tier, 0) - after.get(tier, 0))}</td></tr>"
        for tier in dict.fromkeys([*now, *after]))
    transitions = "".join(
        f"<li>{count} user{'s' if count != 1 else ''}: {escape(_tier(key.split('->')[-1]))} now, "
        f"{escape(_tier(key.split('->')[0]))} after migration</li>"
        for key, count in doc.get("deficiency", {}).get("transitions", {}).items() if count)
    extra = _num(doc, "deficiency", "extra_device_licenses")
    users = _num(doc, "deficiency", "users")
    return (f"<section class=\"deficiency\"><h3>Deficiency: {users} user{'s' if users != 1 else ''} on a higher tier"
            " because of CTI-RDs</h3><table><thead><tr><th>Tier</th><th class=\"num\">Now</th>"
            "<th class=\"num\">After migration</th><th class=\"num\">Difference</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>" + (f"<ul>{transitions}</ul>" if transitions else "")
            + f"<p class=\"note\">Extra device licences in deficiency: {extra}</p></section>")


def _temporary(doc: Mapping[str, Any]) -> str:
    request = doc.get("temporary_license_request", {})
    seats = request.get("spark_seats")
    rows = [
        ("Enhanced Plus", request.get("enhanced_plus", 0)), ("CUWL Standard", request.get("cuwl_standard", 0)),
        ("Users eligible", request.get("users_eligible", 0)), ("Users covered", request.get("users_covered", 0)),
        ("Users not covered", request.get("users_uncovered", 0)),
        ("Spark seats on the order", "not given" if seats is None else seats),
        ("Window to resolve after expiry", f"{request.get('resolution_window_days', 60)} days"),
    ]
    body = "".join(f"<tr><td>{escape(label)}</td><td class=\"num\" data-key=\"{escape(label)}\">"
                   f"{escape(str(value))}</td></tr>" for label, value in rows)
    uncovered = request.get("uncovered_userids") or []
    note = (f"<p class=\"note\">Not covered: {escape(', '.join(map(str, uncovered)))}</p>" if uncovered else "")
    return (f"<section class=\"temporary\"><h3>Temporary licence request</h3><table><tbody>{body}</tbody></table>"
            f"{note}</section>")


def _users_to_migrate(doc: Mapping[str, Any]) -> str:
    rows = []
    for user in doc.get("users", []):
        hybrid = [d["name"] for d in user.get("devices", []) if d.get("kind") == "cti_rd" and d.get("hybrid")]
        if not hybrid:
            continue
        others = [d["name"] for d in user.get("devices", []) if d["name"] not in hybrid]
        temporary = user.get("temporary_license")
        rows.append(
            f"<tr><td>{escape(str(user.get('userid', '')))}</td><td>{escape(', '.join(hybrid))}</td>"
            f"<td>{escape(', '.join(others)) or '—'}</td><td>{escape(_tier(user.get('tier_now')))}</td>"
            f"<td>{escape(_tier(user.get('tier_after')))}</td>"
            f"<td>{escape(_tier(temporary)) if temporary else '—'}</td></tr>")
    if not rows:
        return "<h3>Users to migrate</h3><p class=\"note\">No user owns a Hybrid Call CTI-RD.</p>"
    return (f"<h3>Users to migrate ({len(rows)})</h3><table class=\"users\"><thead><tr><th>User</th>"
            "<th>Hybrid CTI-RDs</th><th>Other devices</th><th>Tier now</th><th>Tier after</th>"
            f"<th>Temporary licence</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")


# -- charts: inline SVG ----------------------------------------------------------------------------

def _scale(top_value: int) -> tuple[int, int]:
    """A round top for the y axis and its tick step (whole numbers)."""
    if top_value <= 0:
        return 1, 1
    rough = top_value / 4
    magnitude = 10 ** math.floor(math.log10(rough)) if rough >= 1 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= rough)
    return math.ceil(top_value / step) * step, step


def _frame(label: str, top: int, step: int) -> tuple[list[str], float, float]:
    """The SVG opening, grid lines and y labels; the plot's height and bottom y."""
    plot_h = _CHART_H - _MARGIN["top"] - _MARGIN["bottom"]
    bottom = _CHART_H - _MARGIN["bottom"]
    parts = [f"<svg class=\"chart\" viewBox=\"0 0 {_CHART_W} {_CHART_H}\" role=\"img\" aria-label=\"{escape(label)}\""
             f" xmlns=\"http://www.w3.org/2000/svg\"><title>{escape(label)}</title>",
             f"<rect x=\"0\" y=\"0\" width=\"{_CHART_W}\" height=\"{_CHART_H}\" fill=\"#ffffff\"/>"]
    for tick in range(0, top + 1, step):
        y = bottom - plot_h * tick / top
        parts.append(f"<line x1=\"{_MARGIN['left']}\" x2=\"{_CHART_W - _MARGIN['right']}\" y1=\"{y:.1f}\" "
                     f"y2=\"{y:.1f}\" stroke=\"#d8dee6\" stroke-width=\"1\"/>"
                     f"<text x=\"{_MARGIN['left'] - 6}\" y=\"{y + 4:.1f}\" text-anchor=\"end\">{tick}</text>")
    return parts, plot_h, bottom


def _legend(items: Sequence[tuple[str, str]]) -> str:
    out, x = [], _MARGIN["left"]
    for label, colour in items:
        out.append(f"<rect x=\"{x}\" y=\"8\" width=\"12\" height=\"12\" fill=\"{colour}\"/>"
                   f"<text x=\"{x + 17}\" y=\"18\">{escape(label)}</text>")
        x += 28 + 7 * len(label)
    return "".join(out)


def _tier_chart(doc: Mapping[str, Any]) -> str:
    now = doc.get("licenses", {}).get("now", {})
    after = doc.get("licenses", {}).get("after_migration", {})
    tiers = list(dict.fromkeys([*now, *after]))
    top, step = _scale(max([now.get(t, 0) for t in tiers] + [after.get(t, 0) for t in tiers] + [0]))
    parts, plot_h, bottom = _frame("Licence tiers now and after migration", top, step)
    group_w = (_CHART_W - _MARGIN["left"] - _MARGIN["right"]) / max(len(tiers), 1)
    bar_w = min(30.0, group_w * 0.34)
    for index, tier in enumerate(tiers):
        centre = _MARGIN["left"] + group_w * (index + 0.5)
        for offset, value, colour, when in ((-1, now.get(tier, 0), NOW_COLOUR, "now"),
                                            (0, after.get(tier, 0), AFTER_COLOUR, "after migration")):
            x, height = centre + offset * bar_w - (1 if offset else -1), plot_h * value / top
            parts.append(f"<rect class=\"bar\" x=\"{x:.1f}\" y=\"{bottom - height:.1f}\" width=\"{bar_w:.1f}\" "
                         f"height=\"{height:.1f}\" fill=\"{colour}\"><title>{escape(_tier(tier))} {when}: {value}"
                         f"</title></rect><text x=\"{x + bar_w / 2:.1f}\" y=\"{bottom - height - 4:.1f}\" "
                         f"text-anchor=\"middle\">{value}</text>")
        parts.append(f"<text x=\"{centre:.1f}\" y=\"{bottom + 16}\" text-anchor=\"middle\">"
                     f"{escape(_tier(tier))}</text>")
    parts.append(f"<line x1=\"{_MARGIN['left']}\" x2=\"{_CHART_W - _MARGIN['right']}\" y1=\"{bottom}\" "
                 f"y2=\"{bottom}\" stroke=\"#1d2733\"/>")
    parts.append(_legend([("Now", NOW_COLOUR), ("After migration", AFTER_COLOUR)]))
    return "".join(parts) + "</svg>"


def _trend_chart(history: Sequence[HistoryRow]) -> str:
    top, step = _scale(max([max(r.cti_rd, r.spark_rd) for r in history] + [0]))
    parts, plot_h, bottom = _frame("CTI-RDs and Spark-RDs over time", top, step)
    left, right = _MARGIN["left"] + 12, _CHART_W - _MARGIN["right"] - 12
    if not history:
        parts.append(f"<text x=\"{_CHART_W / 2}\" y=\"{bottom - plot_h / 2}\" text-anchor=\"middle\">"
                     "No audits recorded yet</text>")
        return "".join(parts) + "</svg>"
    times = [row.taken_at.timestamp() for row in history]
    first, span = min(times), (max(times) - min(times)) or 1.0

    def x_of(moment: float) -> float:
        return (left + right) / 2 if len(set(times)) == 1 else left + (right - left) * (moment - first) / span

    for series, colour, label in (("cti_rd", CTI_RD_COLOUR, "CTI-RDs"), ("spark_rd", SPARK_RD_COLOUR, "Spark-RDs")):
        points = [(x_of(t), bottom - plot_h * getattr(row, series) / top)
                  for t, row in zip(times, history, strict=True)]
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        parts.append(f"<polyline class=\"line\" points=\"{path}\" fill=\"none\" stroke=\"{colour}\" "
                     "stroke-width=\"2.5\" stroke-linejoin=\"round\"/>")
        parts += [f"<circle cx=\"{x:.1f}\" cy=\"{y:.1f}\" r=\"3.5\" fill=\"{colour}\"><title>{label} "
                  f"{row.taken_at.strftime('%Y-%m-%d %H:%M')}: {getattr(row, series)}</title></circle>"
                  for (x, y), row in zip(points, history, strict=True)]
    ticks = min(5, len(set(times)))
    fmt = "%Y-%m-%d" if ticks == 1 or span > 2 * 86400 else "%m-%d %H:%M"
    for index in range(ticks):
        moment = first + (span * index / (ticks - 1) if ticks > 1 else 0)
        label = datetime.fromtimestamp(moment, timezone.utc).strftime(fmt)
        anchor = "middle" if ticks == 1 else {0: "start", ticks - 1: "end"}.get(index, "middle")
        x = x_of(moment) + {"start": -12, "end": 12}.get(anchor, 0)
        parts.append(f"<text x=\"{x:.1f}\" y=\"{bottom + 16}\" text-anchor=\"{anchor}\">{label}</text>")
    parts.append(f"<line x1=\"{_MARGIN['left']}\" x2=\"{_CHART_W - _MARGIN['right']}\" y1=\"{bottom}\" "
                 f"y2=\"{bottom}\" stroke=\"#1d2733\"/>")
    parts.append(_legend([("CTI-RDs", CTI_RD_COLOUR), ("Spark-RDs", SPARK_RD_COLOUR)]))
    return "".join(parts) + "</svg>"
