"""``custclass serve``: the web UI on a production WSGI server (waitress)."""

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (0.0.0.0: every interface).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64))
@with_appcontext
def serve_command(host: str, port: int, threads: int) -> None:
    """Serve the web UI until interrupted (the scheduler runs apart: custclass scheduler)."""
    from waitress import serve

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"web UI on http://{host}:{port}/  (Ctrl+C stops it)")
    serve(app, host=host, port=port, threads=threads, ident="custclass")
