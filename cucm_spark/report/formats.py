"""Machine formats of an audit: JSON (the versioned document) and CSV (one row per user)."""

from __future__ import annotations

import csv
import io
import json

from cucm_spark.audit import Audit, audit_document

CSV_COLUMNS = (
    "userid", "devices", "cti_rd", "cti_rd_hybrid", "spark_rd", "tier_now", "tier_after",
    "extra_device_licenses_now", "temporary_license", "device_names",
)


class JsonFormat:
    def render(self, audit: Audit) -> str:
        return json.dumps(audit_document(audit), indent=2) + "\n"


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
