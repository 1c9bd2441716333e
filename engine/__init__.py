"""The classification engine: pure functions over fact records.

Nothing in this package touches the database or imports the web application, so it can
run in worker processes or on a distributed engine. ``engine.domain`` holds the shared
vocabulary (channels, statuses, attribute names) that the rest of the product builds on.
"""
