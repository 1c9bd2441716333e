"""Demo commands (filled in below)."""
import click

@click.command("demo-data")
def demo_data_command() -> None:
    """Generate a synthetic province as feed files."""

@click.command("demo")
def demo_command() -> None:
    """Create the database, import the demo province and summarise it."""
