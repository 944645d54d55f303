"""damo over a simulated memory hierarchy.

The command-line tool (``damo.cli``) mirrors damo, DAMON's user-space tool; the
simulation itself lives in the Cython package ``damo_engine``.
"""

__version__ = "0.1.0"
