"""``damo adjust``: a recording re-aggregated, filtered, written anew."""
import click

from damo.commands._report_common import ReportCommand
from damo.errors import DamoError
from damo.params import access_filter

OUTPUT_TYPES = ("json_compressed", "json", "perf_script", "perf_data", "native")


def parse_permission(text, option="--output_permission"):
    """damo's file permission: octal digits within 0..0777."""
    try:
        permission = int(text, 8)
    except (TypeError, ValueError):
        raise DamoError("%s: %r is not an octal file mode" % (option, text)) from None
    if not 0 <= permission <= 0o777:
        raise DamoError("%s: %r is out of the file modes (0..777)" % (option, text))
    return permission


def write_records(records, path, output_type, permission=None):
    """Write records as damo writes them (perf_data and native: ours)."""
    from damo.records import damo_exact

    if output_type == "perf_data":
        from damo.records import perf_data
        if perf_data.perf_path() is None:
            # damo reads perf.data only through `perf script`, and so do we
            raise DamoError("--output_type perf_data: perf is not installed, so the file "
                            "could not be read back (install perf, e.g. apt-get install "
                            "linux-perf, or pick another type)")
        perf_data.save(records, path, permission)
    elif output_type == "native":
        from damo.records import Recording, save
        save(Recording(records), path, "native",
             permission=damo_exact.default_mode(path) if permission is None else permission)
    else:
        damo_exact.save(records, path, output_type, permission)


@click.command(cls=ReportCommand, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--aggregate_interval", type=int, metavar="<microseconds>",
              help="new aggregation interval")
@click.option("--input", "-i", "input_file", default="damon.data", show_default=True,
              metavar="<file>", help="input file name")
@click.option("--output", "-o", "output_file", default="damon.adjusted.data",
              show_default=True, metavar="<file>", help="output file name")
@click.option("--output_type", type=click.Choice(OUTPUT_TYPES), default="json_compressed",
              show_default=True, help="output file's type")
@click.option("--output_permission", default="600", show_default=True,
              help="permission of the output file")
@click.option("--skip", type=int, default=20, show_default=True, metavar="<int>",
              help="number of first snapshots to skip")
@access_filter.filter_options
def adjust(aggregate_interval, input_file, output_file, output_type, output_permission,
           skip, **filters):
    """Adjust a recording: re-aggregate it, filter it, write it anew.

    The access filters are damo's; --aggregate_interval merges the snapshots
    after the first --skip ones into snapshots at least that long, as a
    longer aggregation interval would have made them.  The output is
    written through a temporary file, in damo's own layout.
    """
    from damo import records
    from damo.records import aggregate

    permission = parse_permission(output_permission)
    flt = access_filter.AccessFilter.from_options(**filters)
    recs = flt.apply(records.load(input_file).records, source=input_file)
    if aggregate_interval is not None:
        recs = aggregate.adjust_records(recs, aggregate_interval, skip)
    write_records(recs, output_file, output_type, permission)
