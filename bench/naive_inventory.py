"""The way common AXL scripts read an inventory: list everything wide, then get each object.

    python bench/naive_inventory.py AXL_URL

Used by megacluster_audit.py as the comparison; not part of the product.
"""

from __future__ import annotations

import sys

from lab_process import AUTH

from cucm_spark.axl.client import AxlClient
from cucm_spark.axl.endpoint import Endpoint

WIDE_PHONE_TAGS = [
    "name", "description", "product", "model", "class", "protocol", "protocolSide", "callingSearchSpaceName",
    "devicePoolName", "commonPhoneConfigName", "locationName", "useTrustedRelayPoint", "builtInBridgeStatus",
    "ownerUserName", "packetCaptureMode", "rerouteCallingSearchSpaceName", "certificateOperation",
    "deviceMobilityMode",
]


def main(url: str) -> None:
    client = AxlClient(Endpoint.parse(url), *AUTH)
    owners = set()
    for phone in client.list_all("listPhone", "phone", {"name": "%"}, WIDE_PHONE_TAGS):
        client.get("getPhone", name=phone["name"])
        if phone.get("ownerUserName"):
            owners.add(phone["ownerUserName"])
    for userid in sorted(owners):
        client.get("getUser", userid=userid)


if __name__ == "__main__":
    main(sys.argv[1])
