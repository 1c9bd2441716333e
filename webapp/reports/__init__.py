"""The fixed reports: one module per report, reading the summary tables that
:mod:`webapp.reports.refresh` keeps (refreshed by the classification runs), rolled up
the org tree (:mod:`webapp.reports.orgtree`) and limited to a person's org scope."""
