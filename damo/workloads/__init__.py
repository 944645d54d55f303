"""Workload sources: built-ins and masim configs (``masim``), programs traced under
valgrind and saved traces (``tracing``, ``symbols``), and replays of recordings
(``replay``)."""
