"""``flask --app wsgi taxonomy export|import``: a scope's taxonomy as a file, through the
same services as the API and the page (acting as the CLI's site administrator)."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import AppGroup

from webapp.services.errors import ServiceError

taxonomy_cli = AppGroup("taxonomy", help="Export and import a scope's groups and tags.")

FORMATS = click.Choice(["json", "csv", "yaml"])


@taxonomy_cli.command("export")
@click.option("--scope", required=True, help="Scope public id or slug.")
@click.option("--format", "fmt", type=FORMATS, default=None,
              help="Default: from --output's extension, else json.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file (default: standard output).")
def export_command(scope: str, fmt: str | None, output: Path | None) -> None:
    """Write the scope's groups and live tags as JSON, CSV or YAML (streamed)."""
    from webapp.cli import cli_actor, service_errors
    from webapp.services.scopes import get_scope
    from webapp.services.taxonomy.apply import export_taxonomy, format_of

    actor = cli_actor()
    with service_errors():
        found = get_scope(actor, scope)
        chosen = format_of(fmt or (output.suffix if output and output.suffix else "json"))
        exported = export_taxonomy(actor, found.id, chosen)
        if output is None:
            for chunk in exported.chunks:
                sys.stdout.write(chunk)
            return
        with output.open("w", encoding="utf-8", newline="") as file:
            for chunk in exported.chunks:
                file.write(chunk)
    click.echo(f"Wrote {output} ({chosen.value})", err=True)


@taxonomy_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, allow_dash=True,
                                        path_type=Path))
@click.option("--scope", required=True, help="Scope public id or slug.")
@click.option("--format", "fmt", type=FORMATS, default=None,
              help="Default: from the file's extension, else its first characters.")
@click.option("--mode", type=click.Choice(["merge", "mirror"]), default="merge",
              show_default=True, help="mirror also deletes what the file leaves out "
              "(never protected tags).")
@click.option("--dry-run", is_flag=True, help="Show the diff, change nothing.")
@click.option("--quiet", "-q", is_flag=True, help="Print the summary only.")
def import_command(file: Path, scope: str, fmt: str | None, mode: str, dry_run: bool,
                   quiet: bool) -> None:
    """Import FILE (- for standard input) into the scope: print the diff, then apply it in
    one change set (with --dry-run, only print it).  Exit status 1 when the file has
    problems (each printed with its line) or the scope refuses rows."""
    from webapp.cli import cli_actor
    from webapp.services.scopes import get_scope
    from webapp.services.taxonomy.apply import guess_format, import_taxonomy
    from webapp.services.taxonomy.records import Format, Mode

    actor = cli_actor()
    data = sys.stdin.buffer.read() if str(file) == "-" else file.read_bytes()
    try:
        found = get_scope(actor, scope)
        text = data.decode("utf-8-sig", errors="replace")
        chosen = Format(fmt) if fmt else guess_format(text, file.name)
        result = import_taxonomy(actor, found.id, data, chosen, mode=Mode(mode),
                                 dry_run=dry_run, field="file")
    except ServiceError as error:
        for detail in error.details:
            click.echo(f"! {detail.field}: {detail.message}", err=True)
        raise click.ClickException(error.message) from error
    plan = result.plan
    if not quiet:
        _print_diff(result)
    if plan.errors:
        raise click.ClickException(f"{len(plan.errors)} row(s) the scope refuses; nothing "
                                   "would be imported")
    if dry_run:
        click.echo(f"Dry run ({chosen.value}, {mode}): {result.summary}")
    else:
        where = f" (change set #{result.change_set_id})" if result.change_set_id else ""
        click.echo(f"Imported ({chosen.value}, {mode}): {result.summary}{where}")


SIGNS = {"create": "+", "update": "~", "delete": "-", "kept": "="}


def _print_diff(result: object) -> None:
    from webapp.services.taxonomy.apply import ImportResult
    from webapp.services.taxonomy.plan import Action

    assert isinstance(result, ImportResult)
    plan = result.plan
    for kind, steps in (("group", plan.groups), ("tag", plan.tags)):
        unchanged = 0
        for step in steps:
            if step.action is Action.UNCHANGED:
                unchanged += 1
                continue
            name = getattr(step, "identifier", None) or getattr(step, "path", "")
            line = f" (line {step.line})" if step.line else ""
            changes = "; ".join(f"{c.field} {_shown(c.before)} -> {_shown(c.after)}"
                                for c in step.changes)
            why = f": {step.reason}" if step.reason else f": {changes}" if changes else ""
            click.echo(f"{SIGNS[step.action.value]} {kind} {name}{line}{why}")
        if unchanged:
            click.echo(f"  {unchanged} {kind}(s) unchanged")
    for error in plan.errors:
        click.echo(f"! {error.where}: {error.message}", err=True)


def _shown(value: object) -> str:
    if value is None or value == [] or value == "":
        return "(none)"
    if isinstance(value, list):
        return ", ".join(map(str, value))
    return str(value)
