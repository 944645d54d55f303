"""``damo record``: run a workload under simulated DAMON and write a recording."""
import click


@click.command()
def record():
    """Record the data access pattern of a workload under simulated DAMON."""
    raise click.ClickException("record is being written")
