"""The AXL operations the lab answers, and which of them write."""

from __future__ import annotations

from cucm_spark.lab import lines, phones, remote_destinations, sql, users
from cucm_spark.lab.context import Handler, LabContext
from cucm_spark.lab.soap import tag


def get_ccm_version(ctx: LabContext, _request: object) -> str:
    version = tag("version", ctx.release.axl_form)
    return f"<return><componentVersion>{version}</componentVersion></return>"


OPERATIONS: dict[str, Handler] = {
    "getCCMVersion": get_ccm_version,
    "listUser": users.list_user,
    "getUser": users.get_user,
    "addUser": users.add_user,
    "updateUser": users.update_user,
    "listPhone": phones.list_phone,
    "getPhone": phones.get_phone,
    "addPhone": phones.add_phone,
    "updatePhone": phones.update_phone,
    "removePhone": phones.remove_phone,
    "listLine": lines.list_line,
    "getLine": lines.get_line,
    "addLine": lines.add_line,
    "listRemoteDestination": remote_destinations.list_remote_destination,
    "getRemoteDestination": remote_destinations.get_remote_destination,
    "addRemoteDestination": remote_destinations.add_remote_destination,
    "updateRemoteDestination": remote_destinations.update_remote_destination,
    "removeRemoteDestination": remote_destinations.remove_remote_destination,
    "executeSQLQuery": sql.execute_sql_query,
}

WRITES = frozenset(name for name in OPERATIONS if name.startswith(("add", "update", "remove")))
