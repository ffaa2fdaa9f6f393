"""The request to Cisco Global Licensing Operations: everything GLO asks for, as text to send."""

from __future__ import annotations

from cucm_spark.audit import Audit, AuditRules, run_audit
from cucm_spark.inventory.model import Device, DeviceKind, Inventory, RemoteDestination, User
from cucm_spark.licensing.categories import CategoryMap
from cucm_spark.releases import ReleaseTable
from cucm_spark.report.glo import ACKNOWLEDGEMENT_MARK, GloRequest


def worked_example(spark_seats: int | None = 100, release: str = "11.5.1.12900(21)") -> Audit:
    """domain.md's worked example: 100 Enhanced + 20 Enhanced Plus users, CTI-RDs for 60 + 20."""
    devices: list[Device] = []
    for index in range(120):
        userid = f"u{index:03d}"
        devices.append(Device(f"SEP{index:012d}", "Cisco 8841", DeviceKind.DESK_PHONE, owner=userid))
        if index >= 100:
            devices.append(Device(f"CSF{userid}", "Cisco Unified Client Services Framework", DeviceKind.JABBER,
                                  owner=userid))
        if index < 60 or index >= 100:
            name = f"CTIRD{userid}"
            destination = RemoteDestination(f"{userid}@acme.call.ciscospark.com", owner=userid, device=name)
            devices.append(Device(name, "CTI Remote Device", DeviceKind.CTI_RD, owner=userid,
                                  remote_destinations=(destination,), hybrid=True))
    users = tuple(User(f"u{index:03d}") for index in range(120))
    inventory = Inventory(release, users=users, devices=tuple(devices))
    rules = AuditRules(ReleaseTable.load(), CategoryMap.load(), spark_seats=spark_seats)
    return run_audit(inventory, rules, "https://cucm-pub.example.com:8443/axl/", "sql")


def test_glo_request_holds_the_counts_keywords_order_and_product_ids() -> None:
    text = GloRequest("12345").render(worked_example())

    assert "Hybrid" in text
    assert "Call Service Connect" in text
    assert "Web Order ID for Cisco Spark Message/Meet services: 12345" in text
    for product in ("A-SPK-NU-M1", "A-SPK-NU-M2", "A-SPK-NU-M3"):
        assert product in text
    assert "Enhanced Plus: 60" in text
    assert "CUWL Standard: 20" in text
    assert "Users covered: 80 of 80 eligible" in text
    assert "Spark seats ordered: 100" in text
    assert "11.5.1.12900-21" in text
    assert "11.5.1.13900-52" in text  # the release to upgrade to


def test_glo_request_names_both_attachments() -> None:
    text = GloRequest("12345").render(worked_example())

    assert "Prime License Manager" in text
    assert "screenshot" in text.lower()


def test_glo_request_leaves_a_marked_place_for_the_customer_acknowledgement() -> None:
    text = GloRequest("12345").render(worked_example())

    assert ACKNOWLEDGEMENT_MARK in text
    assert text.index(ACKNOWLEDGEMENT_MARK) > text.index("Attachments")
    assert "Signature:" in text.split(ACKNOWLEDGEMENT_MARK, 1)[1]


def test_glo_request_states_the_60_day_resolution_window() -> None:
    assert "within 60 days" in GloRequest("12345").render(worked_example())


def test_without_a_web_order_id_the_request_shows_where_to_put_it() -> None:
    assert "<WEB ORDER ID>" in GloRequest(None).render(worked_example())


def test_seats_fewer_than_eligible_users_are_said_in_the_request() -> None:
    text = GloRequest("12345").render(worked_example(spark_seats=50))

    assert "Users covered: 50 of 80 eligible (30 over the Spark seat count)" in text


def test_on_a_release_without_spark_rds_the_request_has_no_migrate_instead_note() -> None:
    assert "already supports Spark Remote Devices" not in GloRequest("12345").render(worked_example())


def test_on_a_release_with_spark_rds_the_request_says_to_migrate_instead() -> None:
    text = GloRequest("12345").render(worked_example(release="11.5.1.13900(52)"))

    assert "already supports Spark Remote Devices" in text
    assert "Release to upgrade to" not in text
