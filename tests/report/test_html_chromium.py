"""The HTML report in headless Chromium: it loads without console errors or network, the charts paint, the numbers show.

Chromium is driven over the DevTools protocol on a pipe (``--remote-debugging-pipe``:
commands on fd 3, answers on fd 4, each message ending in a NUL byte), with nothing but
the standard library. Screenshots are checked with a small PNG decoder (zlib + unfiltering).
Without a chromium binary the tests skip, except under CI=true, where they fail.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import struct
import subprocess
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from cucm_spark.audit import AuditRules, audit_document, run_audit
from cucm_spark.history import History, window_warnings
from cucm_spark.inventory.model import Device, DeviceKind, Inventory, RemoteDestination, User
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.licensing.tiers import Naming
from cucm_spark.releases import ReleaseTable
from cucm_spark.report.html import (
    AFTER_COLOUR,
    CTI_RD_COLOUR,
    NOW_COLOUR,
    SPARK_RD_COLOUR,
    ClusterReport,
    render_html,
)

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
T0 = datetime(2024, 3, 1, 6, 0, tzinfo=timezone.utc)
WIDTH, HEIGHT = 1200, 2000


# -- a cluster of n users; the first ``cti`` own a CTI-RD (every fourth Extend and Connect) -------

def document(users: int, cti: int, spark: int, naming: Naming = Naming.UCL, seats: int = 20) -> dict[str, Any]:
    people = [User(f"user{i:03d}") for i in range(users)]
    devices = [Device(f"SEP{i:03d}", "Cisco 8841", DeviceKind.DESK_PHONE, owner=u.userid) for i, u in enumerate(people)]
    devices += [Device(f"SEPB{i:03d}", "Cisco 8851", DeviceKind.DESK_PHONE, owner=people[i].userid)
                for i in range(0, users, 3)]
    for i in range(cti):
        owner, hybrid = people[i].userid, i % 4 != 3
        uri = f"{owner}@acme.call.ciscospark.com" if hybrid else "+14085550100"
        devices.append(Device(f"CTIRD{i:03d}", "CTI Remote Device", DeviceKind.CTI_RD, owner=owner, hybrid=hybrid,
                              remote_destinations=(RemoteDestination(uri, owner=owner),)))
    devices += [Device(f"SPARK{i:03d}", "Cisco Spark Remote Device", DeviceKind.SPARK_RD,
                       owner=people[users - 1 - i].userid) for i in range(spark)]
    rules = AuditRules(ReleaseTable.load(), CategoryMap.load(), naming, spark_seats=seats)
    inventory = Inventory("11.5.1.12900(21)", tuple(people), tuple(devices))
    return audit_document(run_audit(inventory, rules, "https://cucm.example.com:8443/axl/", "sql"))


def two_clusters(tmp_path: Path) -> list[ClusterReport]:
    """lab-a: four weekly audits migrating CTI-RDs to Spark-RDs; lab-b (HCS): two audits."""
    plans = {"lab-a": (Naming.UCL, [(30, 0), (26, 4), (18, 10), (12, 16)]), "lab-b": (Naming.HCS, [(9, 1), (10, 1)])}
    reports = []
    with History(tmp_path / "history.db") as history:
        for name, (naming, points) in plans.items():
            for week, (cti, spark) in enumerate(points):
                latest = document(60, cti, spark, naming)
                history.record(name, latest, T0 + timedelta(days=7 * week))
            warnings = window_warnings(history.cti_rd_first_seen(name), T0 + timedelta(days=50))
            reports.append(ClusterReport(name, latest, tuple(history.runs(name)), tuple(warnings)))
    return reports


# -- Chromium over the DevTools pipe ---------------------------------------------------------------

def find_chromium() -> str | None:
    return next((found for name in BROWSERS if (found := shutil.which(name))), None)


@pytest.fixture(scope="module")
def chromium_binary() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true and no chromium binary on PATH: .ci/run must `apt-get install -y chromium`")
        pytest.skip("no chromium binary on PATH (Debian: apt-get install -y chromium): the report is not rendered")
    return binary


class DevTools:
    """A headless Chromium and one page, spoken to over the DevTools protocol on a pipe."""

    def __init__(self, binary: str, profile: Path, log: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # Above fd 10, so that putting them on 3 and 4 in the child can never clobber one another
        # (bash, not sh: dash takes single-digit descriptors only).
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10) for fd in (to_browser_r, from_browser_w)]
        for fd in (to_browser_r, from_browser_w):
            os.close(fd)
        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-extensions", "--disable-default-apps", "--hide-scrollbars", "--mute-audio",
                f"--user-data-dir={profile}", f"--window-size={WIDTH},{HEIGHT}", "--remote-debugging-pipe"]
        self._log = log
        with log.open("wb") as stderr:
            self.process = subprocess.Popen(
                ["bash", "-c", f'exec "$0" "$@" 3<&{high[0]} 4>&{high[1]} {high[0]}<&- {high[1]}>&-', *args],
                pass_fds=high, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
        for fd in high:
            os.close(fd)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.session = ""

    def send(self, method: str, params: dict[str, Any] | None = None, timeout: float = 30) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if self.session and not method.startswith(("Target.", "Browser.")):
            message["sessionId"] = self.session
        data = json.dumps(message).encode("utf-8") + b"\0"
        while data:
            data = data[os.write(self._to_browser, data):]
        deadline = time.monotonic() + timeout
        while True:
            answer = self._receive(deadline, method)
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise AssertionError(f"DevTools {method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_for(self, event: str, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            found = next((e for e in self.events if e.get("method") == event), None)
            if found is not None:
                return found
            self.events.append(self._receive(deadline, event))

    def evaluate(self, expression: str) -> Any:
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def screenshot(self, clip: dict[str, float] | None = None) -> bytes:
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": True}
        if clip is not None:
            params["clip"] = clip
        return base64.b64decode(self.send("Page.captureScreenshot", params)["data"])

    def _receive(self, deadline: float, waiting_for: str) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"Chromium did not answer {waiting_for} in time; its log:\n{self.log_tail()}")
            if select.select([self._from_browser], [], [], remaining)[0]:
                chunk = os.read(self._from_browser, 1 << 20)
                if not chunk:
                    raise AssertionError(f"Chromium closed the DevTools pipe; its log:\n{self.log_tail()}")
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return json.loads(message)

    def log_tail(self) -> str:
        return self._log.read_text(encoding="utf-8", errors="replace")[-3000:]

    def close(self) -> None:
        try:
            if self.process.poll() is None:
                self.send("Browser.close", timeout=5)
            self.process.wait(10)
        except (AssertionError, OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait(10)
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)


def open_page(binary: str, page: Path, work: Path) -> DevTools:
    """Chromium with ``page`` loaded and every console, log and network event recorded."""
    browser = DevTools(binary, work / "profile", work / "chromium.log")
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        browser.session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(f"{domain}.enable")
        browser.send("Page.navigate", {"url": page.as_uri()})
        browser.wait_for("Page.loadEventFired")
    except BaseException:
        browser.close()
        raise
    return browser


def console_errors(events: list[dict[str, Any]]) -> list[str]:
    errors = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            errors.append(f"Uncaught: {params['exceptionDetails'].get('text')}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append("console." + params["type"] + ": " + " ".join(str(a.get("value")) for a in params["args"]))
        elif method == "Log.entryAdded" and params["entry"].get("level") == "error":
            errors.append(f"{params['entry'].get('source')}: {params['entry'].get('text')}")
    return errors


# -- a PNG decoder: enough for Chromium's 8-bit RGB(A) screenshots ---------------------------------

def png_pixels(data: bytes) -> list[tuple[int, ...]]:
    """Every pixel of a non-interlaced 8-bit RGB or RGBA PNG, as (r, g, b) tuples."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, idat, header = 8, [], b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        body = data[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat.append(body)
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, f"unexpected PNG: depth {depth} colour {colour}"
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(b"".join(idat)), width * bpp
    pixels: list[tuple[int, ...]] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 2:
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous, strict=True))
        elif kind in (1, 3, 4):
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                if kind == 1:
                    line[i] = (line[i] + left) & 0xFF
                elif kind == 3:
                    line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
                else:
                    up, corner = previous[i], previous[i - bpp] if i >= bpp else 0
                    p = left + up - corner
                    pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                    line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else corner)) & 0xFF
        pixels += [tuple(line[x:x + 3]) for x in range(0, stride, bpp)]
        previous = line
    return pixels


def near(pixel: tuple[int, ...], colour: str, tolerance: int = 24) -> bool:
    target = (int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16))
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, target, strict=True))


# -- the tests --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def rendered(chromium_binary: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DevTools, list]]:
    work = tmp_path_factory.mktemp("report")
    clusters = two_clusters(work)
    page = work / "report.html"
    page.write_text(render_html(clusters, generated_at=T0 + timedelta(days=50)), encoding="utf-8")
    browser = open_page(chromium_binary, page, work)
    try:
        (work / "report.png").write_bytes(browser.screenshot())  # for a person to look at after a failure
        yield browser, clusters
    finally:
        browser.close()


def test_the_page_loads_without_console_errors_or_network(rendered: tuple[DevTools, list]) -> None:
    browser, _ = rendered
    assert console_errors(browser.events) == []
    requested = [event["params"]["request"]["url"] for event in browser.events
                 if event.get("method") == "Network.requestWillBeSent"]
    assert requested and all(url.startswith("file://") for url in requested), requested


def test_the_key_numbers_are_in_the_rendered_page(rendered: tuple[DevTools, list]) -> None:
    browser, clusters = rendered
    shown = browser.evaluate("""[...document.querySelectorAll('section.cluster')].map(s => ({
        name: s.querySelector('h2').textContent,
        figures: Object.fromEntries([...s.querySelectorAll('.figure')].map(
            f => [f.dataset.key, Number(f.querySelector('.value').textContent)])),
        text: s.innerText}))""")
    assert [s["name"] for s in shown] == ["lab-a", "lab-b"]
    for section, cluster in zip(shown, clusters, strict=True):
        counts, request = cluster.document["counts"], cluster.document["temporary_license_request"]
        assert section["figures"] == {"cti_rd": counts["cti_rd"], "cti_rd_hybrid": counts["cti_rd_hybrid"],
                                      "spark_rd": counts["spark_rd"], "users": counts["users"],
                                      "deficiency_users": cluster.document["deficiency"]["users"]}
        assert f"Enhanced Plus\t{request['enhanced_plus']}" in section["text"]
        assert f"CUWL Standard\t{request['cuwl_standard']}" in section["text"]
        migrating = [u["userid"] for u in cluster.document["users"]
                     if any(d.get("hybrid") for d in u["devices"] if d["kind"] == "cti_rd")]
        assert f"Users to migrate ({len(migrating)})" in section["text"]
        assert all(userid in section["text"] for userid in migrating)
    assert shown[0]["figures"]["cti_rd"] == 12 and shown[1]["figures"]["spark_rd"] == 1
    assert "HCS Foundation" in shown[1]["text"]
    assert "60-day window ends 2024-04-30 (in 10 days)" in shown[0]["text"]


def test_the_charts_paint(rendered: tuple[DevTools, list]) -> None:
    browser, _ = rendered
    boxes = browser.evaluate("""[...document.querySelectorAll('svg.chart')].map(e => {
        const r = e.getBoundingClientRect();
        return {x: r.left + window.scrollX, y: r.top + window.scrollY, width: r.width, height: r.height}; })""")
    assert len(boxes) == 4
    expected = [(NOW_COLOUR, AFTER_COLOUR), (CTI_RD_COLOUR, SPARK_RD_COLOUR)] * 2
    for box, colours in zip(boxes, expected, strict=True):
        assert box["width"] > 300 and box["height"] > 120, box
        colour_counts = Counter(png_pixels(browser.screenshot({**box, "scale": 1})))
        assert len(colour_counts) > 8, "the chart is blank"
        for colour in colours:
            painted = sum(count for pixel, count in colour_counts.items() if near(pixel, colour))
            assert painted > 40, f"{colour} covers only {painted} pixels of the chart at {box}"


def test_the_whole_page_is_not_blank(rendered: tuple[DevTools, list]) -> None:
    browser, _ = rendered
    pixels = png_pixels(browser.screenshot({"x": 0, "y": 0, "width": WIDTH, "height": HEIGHT, "scale": 0.25}))
    inked = sum(1 for p in pixels if max(p) < 200)
    assert len(Counter(pixels)) > 50 and inked > len(pixels) // 50


def test_the_harness_does_see_console_errors(chromium_binary: str, tmp_path: Path) -> None:
    """So that an empty error list above means something: a broken page is caught."""
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><title>broken</title><p>x</p>"
                    "<script>console.error('boom'); undefinedFunction();</script>", encoding="utf-8")
    browser = open_page(chromium_binary, page, tmp_path)
    try:
        errors = console_errors(browser.events)
    finally:
        browser.close()
    assert any("boom" in e for e in errors) and any(e.startswith("Uncaught") for e in errors), errors
