"""Live kdamonds' monitoring results as recordings: the latest snapshot
(``damo report access`` without --input) and the stream of aggregated
snapshots (``damo record ongoing``)."""
import time

from damo.errors import DamoError


def _intervals(c):
    """RecordingWriter intervals of a context state or snapshot entry."""
    goal = c.get("intervals_goal")
    out = {"sample_us": c["sample_us"], "aggr_us": c["aggr_us"],
           "ops_update_us": c.get("update_us", c.get("ops_update_us"))}
    if goal and goal[1]:
        out["intervals_goal"] = {"access_bp": goal[0], "aggrs": goal[1],
                                 "min_sample_us": goal[2], "max_sample_us": goal[3]}
    return out


def live_recording(kdamond_idxs=None):
    """A Recording of the latest aggregated snapshot of every running
    kdamond (or of those given): one record per kdamond/context/target."""
    from damo.live import client
    from damo.records import RecordingWriter

    kds = client.running_kdamonds(kdamond_idxs)
    writer = RecordingWriter(None)
    for k in kds:
        for ci, c in enumerate(k.kstate.get("contexts", [])):
            snap = c.get("snapshot")
            if snap is None:
                continue
            for t in snap["targets"]:
                writer.add_snapshot(k.idx, ci, t["target_id"], snap["start_ns"], snap["end_ns"],
                                    t["starts"], t["ends"], t["nr_accesses"], t["ages"],
                                    intervals=_intervals(dict(
                                        c, sample_us=snap["sample_us"],
                                        aggr_us=snap["aggr_us"])),
                                    sample_interval_us=snap["sample_us"]
                                    if c.get("intervals_goal") else None)
    recording = writer.recording()
    if not recording.records:
        raise DamoError("the running kdamonds have no snapshot yet (their first aggregation "
                        "interval is not over); try again in a moment")
    return recording


class OngoingRecorder:
    """Polls the daemons of running kdamonds for their aggregated snapshots
    and adds them to a RecordingWriter (``damo record ongoing``)."""

    POLL_S = 0.1

    def __init__(self, kdamonds, writer):
        self.slots = {}
        for k in kdamonds:
            self.slots.setdefault(k.slot.path, k.slot)
        self.idxs = {k.idx for k in kdamonds}
        self.writer = writer
        self.next_seq = {}
        self.start_sim_ns = {}
        self.sim_ns = {}
        self.lost = 0
        self.nr_snapshots = 0
        self.info = {}

    def poll(self, slot, timeout_s=None):
        """One poll of a daemon; False once its kdamonds are off or gone."""
        from damo.live import client

        key = slot.path
        try:
            reply = client.request(slot, {"cmd": "snapshots",
                                          "since": self.next_seq.get(key, 0)})
        except client.DaemonUnreachable:
            return False
        if key not in self.next_seq:
            # first contact: record from now on, not the backlog
            self.next_seq[key] = reply["next"]
            self.start_sim_ns[key] = reply["sim_now_ns"]
            self.sim_ns[key] = 0
            for idx, kv in reply.get("kdamonds", {}).items():
                if int(idx) in self.idxs:
                    self.info[int(idx)] = {"workload": reply.get("workload"), "kdamond": kv}
            return reply["state"] == "on"
        self.lost += reply["lost"]
        limit_ns = None if timeout_s is None else self.start_sim_ns[key] + timeout_s * 1e9
        for s in reply["snapshots"]:
            if limit_ns is not None and s["end_ns"] > limit_ns:
                break
            if s["kdamond_idx"] not in self.idxs:
                continue
            iv = _intervals(s["intervals"])
            for t in s["targets"]:
                self.writer.add_snapshot(
                    s["kdamond_idx"], s["context_idx"], t["target_id"], s["start_ns"],
                    s["end_ns"], t["starts"], t["ends"], t["nr_accesses"], t["ages"],
                    intervals=iv,
                    sample_interval_us=s["sample_us"] if "intervals_goal" in iv else None)
            self.nr_snapshots += 1
        self.next_seq[key] = reply["next"]
        self.sim_ns[key] = reply["sim_now_ns"] - self.start_sim_ns[key]
        if timeout_s is not None:
            self.sim_ns[key] = min(self.sim_ns[key], int(timeout_s * 1e9))
        return reply["state"] == "on"

    def run(self, timeout_s=None, on_poll=None):
        """Record until every kdamond is off, or each daemon has advanced
        ``timeout_s`` simulated seconds.  KeyboardInterrupt ends it early.
        ``on_poll(recorder)`` after each round of polls (progress)."""
        live = list(self.slots.values())
        for slot in live:
            self.poll(slot)
        while live:
            if on_poll is not None:
                on_poll(self)
            time.sleep(self.POLL_S)
            still = []
            for slot in live:
                on = self.poll(slot, timeout_s)
                done = timeout_s is not None and \
                    self.sim_ns.get(slot.path, 0) >= timeout_s * 1e9
                if on and not done:
                    still.append(slot)
            live = still
