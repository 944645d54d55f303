"""Live simulated kdamonds: ``damo start`` runs each in a background daemon
process that advances its simulation at real-time pace; ``status``,
``tune``, ``stop``, ``report access`` and ``record ongoing`` reach it
through a per-user runtime directory.

- ``rundir``: the runtime directory, kdamond slots, liveness (locks) and the
  daemons' state files.
- ``daemon``: the background process (``python -m damo.live.daemon``).
- ``client``: requests to a daemon over its Unix socket.
- ``show``: damo-style text of kdamonds (``status``, ``report damon``).
"""
