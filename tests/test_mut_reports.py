"""Report words and numbers a user reads, checked in-process against values
worked out by hand (so that mutation testing sees them)."""
import pytest

from damo.errors import DamoError
from damo.reports import trace
from damo.reports.heatmap import HeatMap
from damo.records.model import Record


def test_events_to_show_and_hide():
    assert trace.events_to_show(["all"], None) == list(trace.EVENTS)
    assert trace.events_to_show(["all"], ["damon:damos_esz"]) == [
        e for e in trace.EVENTS if e != "damon:damos_esz"]
    assert trace.events_to_show(["damon:damon_aggregated", "damon:damos_esz"],
                                ["damon:damon_aggregated"]) == ["damon:damos_esz"]
    with pytest.raises(DamoError) as e:
        trace.events_to_show(["damon:damon_aggregated"], ["damon:damos_esz"])
    assert str(e.value) == "--no_event: damon:damos_esz is not among the events to show"


def test_a_heatmap_too_small_for_its_pixels_says_so():
    r = Record(1, [0], [1000], [0, 1], [0], [100], [1], [1])
    # 1000 ns cannot be cut into 2000 columns of whole nanoseconds
    with pytest.raises(DamoError) as e:
        HeatMap.build([r], (0, 1000), (0, 100), (2000, 10))
    assert str(e.value) == "the map is too small for 2000x10 pixels (time 1 us, space 100 B)"
