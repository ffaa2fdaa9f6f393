"""Migration of Hybrid Call users from CTI-RDs to Spark-RDs: naming, planning, execution, journal."""
