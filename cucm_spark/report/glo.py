"""The request to Cisco Global Licensing Operations for temporary UCM licences, as text."""

from __future__ import annotations

from cucm_spark.audit import Audit

SPARK_PRODUCT_IDS = ("A-SPK-NU-M1", "A-SPK-NU-M2", "A-SPK-NU-M3")
ACKNOWLEDGEMENT_MARK = "=== CUSTOMER ACKNOWLEDGEMENT (to be supplied and signed by the customer) ==="


class GloRequest:
    """Everything GLO asks for; the customer adds the attachments and signs the acknowledgement."""

    def __init__(self, web_order_id: str | None) -> None:
        self.web_order_id = web_order_id

    def render(self, audit: Audit) -> str:
        request = audit.licensing.temporary_request
        seats = "not given" if request.spark_seats is None else str(request.spark_seats)
        lines = [
            "Subject: Hybrid Call Service Connect - temporary UCM licences for CTI Remote Device deficiency",
            "",
            "To: Cisco Global Licensing Operations (GLO)",
            "",
            "Keywords: Hybrid; Call Service Connect",
            "",
            f"Cluster: {audit.cluster}",
            f"Unified CM release: {audit.release} ({audit.release_name})",
            "Spark Remote Device supported on this release: " + ("yes" if audit.spark_rd_supported else "no"),
        ]
        if audit.upgrade_target:
            lines.append(f"Release to upgrade to for Spark Remote Devices: {audit.upgrade_target}")
        if audit.spark_rd_supported:
            # domain.md section 1: temporary licences end where a Spark-RD capable release is available.
            lines += [
                "",
                "NOTE: this release already supports Spark Remote Devices. GLO grants temporary licences only",
                "until a Spark-RD capable release is available in the train: migrate the Hybrid CTI Remote",
                "Devices to Spark Remote Devices rather than asking for these licences.",
            ]
        lines += [
            "",
            f"Web Order ID for Cisco Spark Message/Meet services: {self.web_order_id or '<WEB ORDER ID>'}",
            f"Product IDs on that order: {', '.join(SPARK_PRODUCT_IDS)} (Spark seats ordered: {seats})",
            "",
            "Requested temporary UCM licences (UCM licences only, no CUWL for other applications):",
            f"  Enhanced Plus: {request.enhanced_plus}",
            f"  CUWL Standard: {request.cuwl_standard}",
            f"Users covered: {request.users_covered} of {request.users_eligible} eligible"
            + (f" ({request.users_uncovered} over the Spark seat count)" if request.users_uncovered else ""),
            "",
            f"Users whose tier rose because of a Hybrid CTI Remote Device: {audit.licensing.deficiency.users}",
            f"CTI Remote Devices on the cluster: {audit.counts['cti_rd']}"
            f" (Hybrid Call: {audit.counts['cti_rd_hybrid']})",
            "",
            "Attachments to add:",
            "  1. The licence request exported from Prime License Manager.",
            "  2. A screenshot of the licence deficiency in Prime License Manager.",
            "",
            "Terms understood: temporary licences are not extended past the availability of a Spark",
            "Remote Device capable release in this major train; when they expire, the deficiency",
            f"returns and must be resolved (upgrade and migrate) within {request.resolution_window_days} days.",
            "",
            ACKNOWLEDGEMENT_MARK,
            "",
            "<customer acknowledgement text>",
            "",
            "Name: ______________________  Title: ______________________",
            "Signature: _________________  Date: _______________________",
            "=" * len(ACKNOWLEDGEMENT_MARK),
            "",
        ]
        return "\n".join(lines)
