"""`changtong audit`: the audit log on the command line, newest first."""
from __future__ import annotations

from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext


def _db():
    return current_app.extensions["changtong.db"]


def _day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("a date as YYYY-MM-DD", param_hint=name) from None


def _value(v) -> str:
    if v is None or v == "":
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    text = str(v).replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def describe(entry) -> str:
    """The changed fields of an entry on one line: `field: before -> after`."""
    before, after = entry.before or {}, entry.after or {}
    if entry.before is None and entry.after is not None:
        return ", ".join(f"{k}={_value(v)}" for k, v in after.items() if v not in (None, ""))
    if entry.after is None and entry.before is not None:
        return ", ".join(f"{k}={_value(v)}" for k, v in before.items() if v not in (None, ""))
    return "; ".join(f"{k}: {_value(before.get(k))} -> {_value(after.get(k))}" for k in entry.changed)


@click.command("audit")
@click.option("--kind", default=None, help="routing_rule, association, unit, user, membership, category, "
                                           "time_limit, calendar_override, canned_reply, notice_template, ... "
                                           "or identity_revealed")
@click.option("--since", default=None, help="From this day (YYYY-MM-DD, Beijing time)")
@click.option("--until", default=None, help="Up to this day, included")
@click.option("--actor", default="", help="A username, or the login that ran the command line")
@click.option("--object", "object_id", default="", help="An object's id or code; a case number for reveals")
@click.option("--limit", default=50, type=click.IntRange(1, 10_000), help="How many entries (newest first)")
@with_appcontext
def audit_cmd(kind: str | None, since: str | None, until: str | None, actor: str, object_id: str, limit: int) -> None:
    """Print the audit log, newest first: administrative changes with before -> after, and
    reveals of a reporter's identity (who, when, which case; never the identity)."""
    from casework.audit.models import AuditKind
    from casework.audit.queries import REVEAL, Filters, audit_log
    from web.presenters import local_time

    if kind and kind != REVEAL and kind not in AuditKind._value2member_map_:
        raise click.BadParameter(f"one of {', '.join([*AuditKind._value2member_map_, REVEAL])}", param_hint="--kind")
    filters = Filters(kind=kind or "", actor=actor.strip(), since=_day(since, "--since"),
                      until=_day(until, "--until"), object_id=object_id.strip())
    with _db().session_scope(write=False) as session:
        page = audit_log(session, filters, page_size=limit)
        for row in page.rows:
            if row.entry is not None:
                e = row.entry
                who = f"{e.actor_kind.value}:{e.actor_name or '-'}"
                what = f"{e.kind.value} {e.object_id or '-'} {e.action.value}"
                detail = describe(e)
                click.echo(f"{local_time(e.at)}  {who}  {what}" + (f"  {detail}" if detail else ""))
            else:
                r = row.reveal
                click.echo(f"{local_time(r.at)}  staff:{r.actor_name or '-'}  {REVEAL} {r.case_number}")
    if not page.rows:
        click.echo("no entries", err=True)
    elif page.has_next:
        click.echo(f"(the newest {limit}; --limit shows more)", err=True)
