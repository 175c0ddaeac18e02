"""Strategy: SCS and county-strategy objectives, SMART targets, district priorities and local evidence."""
