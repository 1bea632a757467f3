"""`changtong notices [--last N]`: print the notices a development machine wrote to files
instead of sending them (CHANGTONG_DEV_NOTICE_FILES=1), decrypted, newest last. The files are
encrypted with the personal-data key (casework.notify.channels.FileSink); this command is how a
developer reads a receipt's query code without an SMS gateway. Registered in web/cli/__init__.py."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("notices")
@click.option("--last", default=10, show_default=True, help="How many of the newest notices to print.")
@with_appcontext
def notices_command(last: int) -> None:
    """Print the newest development notices (SMS and e-mail) written to files."""
    from casework.notify.channels import FileSink

    services = current_app.extensions["changtong.services"]
    found = []
    for channel in ("sms", "email"):
        sink = FileSink(services.settings.notice_dir / channel, services.cipher)
        if sink.directory.exists():
            for path in sink.directory.glob(f"*{FileSink.SUFFIX}"):
                found.append((path.stat().st_mtime, channel, path))
    if not found:
        click.echo(f"No notice files under {services.settings.notice_dir}.")
        return
    for _mtime, channel, path in sorted(found)[-last:]:
        sink = FileSink(path.parent, services.cipher)
        notice = sink.read(path)
        click.echo(f"[{channel}] to {notice['to']}: {notice['subject']}".rstrip(": "))
        click.echo(f"  {notice['body']}")
