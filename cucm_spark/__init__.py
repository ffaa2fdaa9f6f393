"""cucm-spark: audit CUCM clusters for CTI Remote Devices and migrate them to Spark Remote Devices."""

__version__ = "0.1.0"
