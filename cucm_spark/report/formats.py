"""Machine formats of an audit: JSON (the versioned document) and CSV (one row per user)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from json.encoder import encode_basestring_ascii as _quoted

from cucm_spark.audit import Audit, audit_document, audit_summary, user_entries
from cucm_spark.inventory.bulk import paused_gc
from cucm_spark.inventory.model import Device, DeviceKind

CSV_COLUMNS = (
    "userid", "devices", "cti_rd", "cti_rd_hybrid", "spark_rd", "tier_now", "tier_after",
    "extra_device_licenses_now", "temporary_license", "device_names",
)


class JsonFormat:
    """The document exactly as ``json.dumps(audit_document(audit), indent=2)`` writes it.

    The ``users`` list (nearly all of the document on a large cluster) is written from
    the audit directly, one string per user: json's indenting encoder is pure Python and
    makes millions of small strings, seconds and a hundred megabytes for 80,000 devices.
    """

    def render(self, audit: Audit) -> str:
        document = audit_summary(audit)
        document["users"] = []
        head = _indented(document)
        if not audit.user_entries:
            return head + "\n"
        empty = '"users": []\n}'
        if not head.endswith(empty):  # a key after "users": the sure, slow way
            return json.dumps(audit_document(audit), indent=2) + "\n"
        with paused_gc():  # one join of every part: the 20 MB text is made once
            return "".join([head[: -len(empty)], '"users": [\n', *_users_json(audit), "\n  ]\n}\n"])


class CsvFormat:
    def render(self, audit: Audit) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for user in audit_document(audit)["users"]:
            devices = user["devices"]
            kinds = [d["kind"] for d in devices]
            writer.writerow([
                user["userid"],
                len(devices),
                kinds.count("cti_rd"),
                sum(1 for d in devices if d.get("hybrid")),
                kinds.count("spark_rd"),
                user["tier_now"] or "",
                user["tier_after"] or "",
                user["extra_device_licences_now"],
                user["temporary_license"] or "",
                " ".join(d["name"] for d in devices),
            ])
        return out.getvalue()


def _users_json(audit: Audit) -> Iterator[str]:
    """Each user entry as json.dumps(indent=2) writes it at its depth in the document.

    The entries' types are known (audit.UserEntry): strings or None, counts, and devices.
    """
    separator = ""
    for entry in user_entries(audit):
        devices = "[\n" + ",\n".join(map(_device_json, entry.devices)) + "\n      ]" if entry.devices else "[]"
        yield (
            f"{separator}    {{\n"
            f'      "userid": {_quoted(entry.userid)},\n'
            f'      "devices": {devices},\n'
            f'      "tier_now": {_text(entry.tier_now)},\n'
            f'      "tier_after": {_text(entry.tier_after)},\n'
            f'      "extra_device_licences_now": {_count(entry.extra_now)},\n'
            f'      "extra_device_licences_after": {_count(entry.extra_after)},\n'
            f'      "temporary_license": {_text(entry.temporary_license)}\n'
            "    }"
        )
        separator = ",\n"


def _device_json(device: Device) -> str:
    # DeviceKind is a str enum: encode_basestring_ascii writes its value, as json does.
    kind = _quoted(device.kind)
    if device.kind is DeviceKind.CTI_RD:
        kind += ',\n          "hybrid": ' + ("true" if device.hybrid else "false")
    return (
        "        {\n"
        f'          "name": {_quoted(device.name)},\n'
        f'          "model": {_text(device.model)},\n'
        f'          "kind": {kind}\n'
        "        }"
    )


def _text(value: str | None) -> str:
    return "null" if value is None else _quoted(value)


def _count(value: int) -> str:
    return json.dumps(value) if type(value) is not int else int.__repr__(value)


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _indented(value: object, level: int = 0) -> str:
    """json.dumps(value, indent=2), with long lists of scalars (user ids) written by json's C encoder."""
    if type(value) in (list, tuple) and value and _SCALARS.issuperset(map(type, value)):  # type: ignore[arg-type]
        inner = "\n" + "  " * (level + 1)
        flat = json.JSONEncoder(separators=("," + inner, ": "), check_circular=False).encode(value)
        return "[" + inner + flat[1:-1] + "\n" + "  " * level + "]"
    if type(value) is dict and value and all(type(key) is str for key in value):
        inner = "\n" + "  " * (level + 1)
        items = (_quoted(key) + ": " + _indented(item, level + 1) for key, item in value.items())  # type: ignore[union-attr]
        return "{" + inner + ("," + inner).join(items) + "\n" + "  " * level + "}"
    return json.dumps(value, indent=2).replace("\n", "\n" + "  " * level)
