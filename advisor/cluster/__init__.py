"""The check on every node of a cluster, through an existing engine (Ray); never our own remote execution.

``ray`` is imported only inside this package, and only when a cluster command runs.
"""
