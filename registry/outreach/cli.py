"""`flask --app wsgi registry smtp-sink [--port 8025] [--record FILE] [--quiet]`."""
import logging
import signal
import threading

import click

from registry.core.cli import registry_cli

log = logging.getLogger(__name__)


@registry_cli.command("smtp-sink")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8025, show_default=True, type=click.IntRange(0, 65535),
              help="0 lets the system pick a free port, printed on the first line.")
@click.option("--record", "record_path", type=click.Path(dir_okay=False, writable=True),
              help="Append every message to this file as one JSON line.")
@click.option("--fail-every", type=click.IntRange(1), default=None,
              help="Answer every Nth message with 451, try again later.")
@click.option("--quiet", is_flag=True, help="Print no line per message.")
def smtp_sink(host: str, port: int, record_path: str | None, fail_every: int | None,
              quiet: bool) -> None:
    """Receive mail locally and record it, delivering nothing, until interrupted."""
    from registry.outreach.sink import SmtpSink

    # aiosmtpd logs every command at info; the sink prints its own line per message
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    sink = SmtpSink(host, port, record_path, fail_every=fail_every, keep=False,
                    on_message=None if quiet else _print_message)

    with sink:
        click.echo(f"SMTP sink listening on {sink.host}:{sink.port}; Ctrl-C stops it.")
        try:
            while not stopping.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    click.echo(f"{sink.received:,} messages received.")


def _print_message(message) -> None:
    click.echo(f"{message.received_at[11:19]}  {message.mail_from} -> "
               f"{', '.join(message.rcpt_tos)}  {message.subject or ''}  "
               f"({message.size:,} bytes)")
