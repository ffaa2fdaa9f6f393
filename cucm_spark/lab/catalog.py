"""What a freshly installed CUCM knows before anyone configures it: the lab's seed data."""

from __future__ import annotations

PHONE_CLASS = 1

SCCP, SIP, CTI_REMOTE_DEVICE = 0, 11, 21
PROTOCOLS = {SCCP: "SCCP", SIP: "SIP", CTI_REMOTE_DEVICE: "CTI Remote Device"}

# typemodel: (enum, name, moniker, protocol). CTI Remote Device and Cisco Spark Remote
# Device carry the enums domain.md gives; the rest follow CUCM's data dictionary.
MODELS: tuple[tuple[int, str, str, int], ...] = (
    (30027, "Analog Phone", "MODEL_ANALOG_PHONE", SCCP),
    (36219, "Cisco ATA 191", "MODEL_CISCO_ATA_191", SIP),
    (36010, "Cisco 3905", "MODEL_CISCO_3905", SIP),
    (547, "Cisco 6901", "MODEL_CISCO_6901", SCCP),
    (548, "Cisco 6911", "MODEL_CISCO_6911", SCCP),
    (495, "Cisco 6921", "MODEL_CISCO_6921", SCCP),
    (496, "Cisco 6941", "MODEL_CISCO_6941", SCCP),
    (497, "Cisco 6961", "MODEL_CISCO_6961", SCCP),
    (621, "Cisco 7821", "MODEL_CISCO_7821", SIP),
    (622, "Cisco 7841", "MODEL_CISCO_7841", SIP),
    (623, "Cisco 7861", "MODEL_CISCO_7861", SIP),
    (36213, "Cisco 8841", "MODEL_CISCO_8841", SIP),
    (36214, "Cisco 8851", "MODEL_CISCO_8851", SIP),
    (36215, "Cisco 8861", "MODEL_CISCO_8861", SIP),
    (36217, "Cisco 8845", "MODEL_CISCO_8845", SIP),
    (36216, "Cisco 8865", "MODEL_CISCO_8865", SIP),
    (503, "Cisco Unified Client Services Framework", "MODEL_CSF", SIP),
    (562, "Cisco Dual Mode for iPhone", "MODEL_IPHONE", SIP),
    (575, "Cisco Dual Mode for Android", "MODEL_ANDROID", SIP),
    (652, "Cisco Jabber for Tablet", "MODEL_TABLET", SIP),
    (635, "CTI Remote Device", "MODEL_CTI_REMOTE_DEVICE", CTI_REMOTE_DEVICE),
    (36235, "Cisco Spark Remote Device", "MODEL_SPARK_REMOTE_DEVICE", CTI_REMOTE_DEVICE),
)

DEFAULT_DEVICE_POOL = "Default"
DEFAULT_LOCATION = "Hub_None"
DEFAULT_COMMON_PHONE_CONFIG = "Standard Common Phone Profile"
DEFAULT_PRESENCE_GROUP = "Standard Presence group"

FACTORY_DEFAULTS: dict[str, tuple[str, ...]] = {
    "devicepool": (DEFAULT_DEVICE_POOL,),
    "location": (DEFAULT_LOCATION, "Phantom", "Shadow"),
    "commonphoneconfig": (DEFAULT_COMMON_PHONE_CONFIG,),
    "presencegroup": (DEFAULT_PRESENCE_GROUP,),
    "routepartition": (),
    "callingsearchspace": (),
}

# AXL schema versions by major release. A release accepts its own major's versions up to
# its own, and those of the two majors before it (CUCM 15 accepts 12.x, 14.0 and 15.0).
AXL_SCHEMA_VERSIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
    (8, ("8.0", "8.5")),
    (9, ("9.0", "9.1")),
    (10, ("10.0", "10.5")),
    (11, ("11.0", "11.5")),
    (12, ("12.0", "12.5")),
    (14, ("14.0",)),
    (15, ("15.0",)),
)

# The first build of each train that has the Cisco Spark Remote Device (domain.md section 2).
# Trains before 10.5 never got it; 12.0 and every later train have it from their first build.
# The 11.0 minimum is unconfirmed: the same table the fixtures and the product use.
SPARK_RD_MINIMUM: dict[tuple[int, int], tuple[int, int, int, int, int]] = {
    (10, 5): (10, 5, 2, 15900, 8),
    (11, 0): (11, 0, 1, 23900, 5),
    (11, 5): (11, 5, 1, 13900, 52),
}
SPARK_RD_EVERY_BUILD_FROM_MAJOR = 12
SPARK_RD_MODEL = "Cisco Spark Remote Device"
