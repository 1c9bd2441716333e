"""Alerts and target lists for front-line staff: the alert list with its filters and
acknowledgement (:mod:`.alerts`), and the named target lists of customers and of open
alerts (:mod:`.targets`), always within a person's org scope."""
