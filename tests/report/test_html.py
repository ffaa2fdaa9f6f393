"""The HTML report page without a browser: content, escaping, self-containment and well-formed charts."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from cucm_spark.audit import AuditRules, audit_document, run_audit
from cucm_spark.history import HistoryRow
from cucm_spark.inventory.model import Device, DeviceKind, Inventory, RemoteDestination, User
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.licensing.tiers import Naming
from cucm_spark.releases import ReleaseTable
from cucm_spark.report.html import ClusterReport, HtmlFormat, render_html

T0 = datetime(2024, 3, 1, 6, 0, tzinfo=timezone.utc)
SVG = re.compile(r"<svg\b.*?</svg>", re.S)


def cti_rd(owner: str, name: str, hybrid: bool = True) -> Device:
    destination = f"{owner}@acme.call.ciscospark.com" if hybrid else "+14085551234"
    return Device(name, "CTI Remote Device", DeviceKind.CTI_RD, owner=owner, hybrid=hybrid,
                  remote_destinations=(RemoteDestination(destination, owner=owner, device=name),))


def document(naming: Naming = Naming.UCL, userid: str = "ann") -> dict:
    """ann: phone + Hybrid CTI-RD; bob: phone + Jabber + E&C CTI-RD; cy: phone + Spark-RD."""
    inventory = Inventory("11.5.1.12900(21)", users=(User(userid), User("bob"), User("cy")), devices=(
        Device("SEPANN", "Cisco 8841", DeviceKind.DESK_PHONE, owner=userid),
        cti_rd(userid, "CTIRDANN"),
        Device("SEPBOB", "Cisco 8851", DeviceKind.DESK_PHONE, owner="bob"),
        Device("CSFBOB", "Cisco Unified Client Services Framework", DeviceKind.JABBER, owner="bob"),
        cti_rd("bob", "CTIRDBOB", hybrid=False),
        Device("SEPCY", "Cisco 8841", DeviceKind.DESK_PHONE, owner="cy"),
        Device("SPARKCY", "Cisco Spark Remote Device", DeviceKind.SPARK_RD, owner="cy"),
    ))
    rules = AuditRules(ReleaseTable.load(), CategoryMap.load(), naming, spark_seats=10)
    return audit_document(run_audit(inventory, rules, "https://cucm-a.example.com:8443/axl/", "sql"))


def trend(cluster: str, points: list[tuple[int, int]], step: timedelta = timedelta(days=7)) -> tuple[HistoryRow, ...]:
    return tuple(HistoryRow(i + 1, cluster, T0 + step * i, 3, cti, 1, spark, 1, "ucl", {}, {})
                 for i, (cti, spark) in enumerate(points))


class Elements(HTMLParser):
    """Every start tag with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def elements(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = Elements()
    parser.feed(page)
    return parser.tags


@pytest.fixture
def page() -> str:
    return render_html([
        ClusterReport("lab-a", document(), trend("lab-a", [(7, 0), (5, 2), (2, 1)]),
                      warnings=("CTI-RD CTIRDANN: first seen 2024-03-01; its 60-day window ends 2024-04-30",)),
        ClusterReport("lab-hcs", document(Naming.HCS), trend("lab-hcs", [(2, 1)])),
    ], generated_at=T0)


def test_the_page_carries_each_clusters_key_numbers(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>") and "Generated 2024-03-01 06:00 UTC · 2 clusters" in page
    assert page.count("<section class=\"cluster\"") == 2
    assert re.search(r'data-key="cti_rd"><span class="value">2</span>', page)
    assert re.search(r'data-key="cti_rd_hybrid"><span class="value">1</span>', page)
    assert re.search(r'data-key="spark_rd"><span class="value">1</span>', page)
    assert "Deficiency: 1 user on a higher tier" in page
    assert 'data-key="Enhanced Plus">1</td>' in page  # the temporary licence request
    assert "1 user: Enhanced Plus now, Enhanced after migration" in page
    assert "CTIRDANN: first seen 2024-03-01" in page
    assert "upgrade to 11.5.1.13900-52" in page
    assert "HCS Foundation" in page and "HCS Standard" in page


def test_users_to_migrate_are_those_with_a_hybrid_cti_rd(page: str) -> None:
    table = page.split("<h3>Users to migrate (1)</h3>")[1].split("</table>")[0]
    assert "<td>ann</td><td>CTIRDANN</td><td>SEPANN</td><td>Enhanced Plus</td><td>Enhanced</td>" in table
    assert "bob" not in table and "cy" not in table


def test_the_page_is_self_contained(page: str) -> None:
    tags = elements(page)
    names = {tag for tag, _ in tags}
    assert not names & {"script", "img", "link", "iframe", "object", "embed", "base", "form"}
    for tag, attrs in tags:
        for name, value in attrs.items():
            if name in {"src", "href", "action", "srcset"}:
                assert value is not None and value.startswith("#"), (tag, name, value)
            assert not name.startswith("on"), (tag, name)
    policy = next(a["content"] for t, a in tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert policy is not None and policy.startswith("default-src 'none'")
    assert "url(" not in page and "@import" not in page


def test_every_text_is_escaped() -> None:
    hostile = "<script>alert(1)</script>"
    page = render_html([ClusterReport(hostile, document(userid='"><img src=x onerror=alert(2)>'),
                                      trend(hostile, [(1, 0)]), warnings=(hostile,), error=hostile)])
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in page
    assert {tag for tag, _ in elements(page)}.isdisjoint({"script", "img"})


def test_charts_are_well_formed_svg_with_a_bar_per_tier_and_a_point_per_run(page: str) -> None:
    charts = [ET.fromstring(svg) for svg in SVG.findall(page)]
    assert len(charts) == 4
    ns = "{http://www.w3.org/2000/svg}"
    ucl_tiers, trend_a, hcs_tiers, trend_hcs = charts
    assert len(ucl_tiers.findall(f"{ns}rect[@class='bar']")) == 2 * 5
    assert len(hcs_tiers.findall(f"{ns}rect[@class='bar']")) == 2 * 2
    assert len(trend_a.findall(f"{ns}polyline")) == 2 and len(trend_a.findall(f"{ns}circle")) == 2 * 3
    assert len(trend_hcs.findall(f"{ns}circle")) == 2
    points = trend_a.find(f"{ns}polyline").get("points").split()  # type: ignore[union-attr]
    xs = [float(p.split(",")[0]) for p in points]
    assert xs == sorted(xs) and len(set(xs)) == 3
    heights = [float(r.get("height") or 0) for r in ucl_tiers.findall(f"{ns}rect[@class='bar']")]
    assert max(heights) > 0 and all(h >= 0 for h in heights)


def test_a_cluster_without_an_audit_or_history_still_gets_a_section() -> None:
    page = render_html([ClusterReport("lab-down", None, (), error="cluster unreachable: connection refused")])
    assert "Latest audit failed: cluster unreachable: connection refused" in page
    assert '<td colspan="6">cluster unreachable: connection refused</td>' in page
    assert "No audits recorded yet" in page
    ET.fromstring(SVG.findall(page)[0])


def test_hours_apart_runs_label_the_axis_with_times() -> None:
    page = render_html([ClusterReport("lab-a", document(), trend("lab-a", [(3, 0), (2, 1)], timedelta(hours=6)))])
    assert ">03-01 06:00</text>" in page and ">03-01 12:00</text>" in page


def test_the_format_class_renders_the_same_page() -> None:
    clusters = [ClusterReport("lab-a", document(), trend("lab-a", [(1, 1)]))]
    assert HtmlFormat().render(clusters).split("<h2>")[1] == render_html(clusters).split("<h2>")[1]
