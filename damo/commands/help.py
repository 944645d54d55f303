"""``damo help <topic>``: damo's manual of the options it keeps out of --help."""
import click

from damo.commands._report_common import ReportCommand, echo
from damo.cli import LazyGroup

FILTER_TITLE = "command line options for monitoring results visualization options"

TOPICS = {
    "damon_param_options": ("damo.commands.help:damon_param_options",
                            "DAMON parameter command line options"),
    "access_filter_options": ("damo.commands.help:access_filter_options",
                              "DAMON monitoring results filtering options"),
    "access_format_options": ("damo.commands.help:access_format_options",
                              "DAMON monitoring results visualization options"),
}


@click.group(cls=LazyGroup, lazy_subcommands=TOPICS,
             context_settings={"help_option_names": ["-h", "--help"]})
def help():  # noqa: A001 (damo's command name)
    """Provide help for given topics."""


@click.command(cls=ReportCommand)
@click.argument("category", type=click.Choice(["all", "monitoring", "damos"]),
                metavar="<category>")
def damon_param_options(category):
    """DAMON parameter command line options.

    CATEGORY is all, monitoring or damos: the options damo start, tune,
    record and args damon take for that part of DAMON's parameters.
    """
    from damo.params import argparse_specs as specs

    if category == "monitoring":
        title = "command line options for monitoring-part DAMON parameters"
        tables = (specs.MONITORING_DAMOS_COMMON, specs.MONITORING)
    elif category == "damos":
        title = "command line options for DAMOS parameters"
        tables = (specs.MONITORING_DAMOS_COMMON, specs.DAMOS)
    else:
        title = "command line options for all DAMON parameters"
        tables = None

    def add(parser):
        if tables is None:
            specs.add_damon_params(parser)
        for table in tables or ():
            specs.add(parser, table)

    text = "%s\n\n%s" % (title, specs.help_body(add))
    if category == "all":
        text += ("\nAlso there are command line options for setting only monitoring and "
                 "DAMOS-part DAMON parameters. Use 'damo help damon_param_options "
                 "{monitoring,damos}' for those.")
    echo(text)


@click.command(cls=ReportCommand)
def access_filter_options():
    """DAMON monitoring results filtering options.

    The access filters of damo report access, times, adjust and record.
    """
    from damo.params import access_filter, argparse_specs as specs

    # damo titles this topic as the visualization one
    echo("%s\n%s" % (FILTER_TITLE, specs.help_body(access_filter.add_argparse_options)))


@click.command(cls=ReportCommand)
@click.argument("subtopic", required=False, default="options", metavar="[<subtopic>]",
                type=click.Choice(["options", "record_format_keywords",
                                   "snapshot_format_keywords", "region_format_keywords"]))
def access_format_options(subtopic):
    """DAMON monitoring results visualization options.

    SUBTOPIC is options (the default: damo report access's format options),
    or record_format_keywords, snapshot_format_keywords or
    region_format_keywords: the keywords of --format templates.
    """
    from damo.params import argparse_specs as specs

    keywords = {"record_format_keywords": specs.RECORD_KEYWORDS,
                "snapshot_format_keywords": specs.SNAPSHOT_KEYWORDS,
                "region_format_keywords": specs.REGION_KEYWORDS}.get(subtopic)
    if keywords is not None:
        echo("\n\n".join("%s\n%s" % (keyword, text) for keyword, text in keywords))
        return
    echo("%s\n%s" % (FILTER_TITLE, specs.help_body(
        lambda parser: specs.add(parser, specs.ACCESS_FORMAT))))
