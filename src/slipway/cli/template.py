"""The verbs that keep a project current with the Slipway template: template-update, template-pr, template-link
(docs/upgrading.md; .github/workflows/template-update.yml calls the first two). Exit codes: 0 done (or nothing to
do), 1 the update cannot be prepared or proposed, 2 bad options."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from slipway.cli.root import Failure, app

OutOption = Annotated[Path, typer.Option("--out", help="folder for the prepared update (bundle, title, text)")]
DEFAULT_OUT = Path("build/template-update")


@app.command("template-update")
def template_update(
    vcs_ref: Annotated[
        str | None, typer.Option("--vcs-ref", envvar="TEMPLATE_VERSION", help="template version (default: latest)")
    ] = None,
    conflict: Annotated[str, typer.Option(help="inline (conflict markers) | rej (.rej files)")] = "inline",
    branch: Annotated[str, typer.Option(help="the update branch")] = "template-update",
    out: OutOption = DEFAULT_OUT,
) -> None:
    """Run `copier update` on a fresh branch and commit it (conflicts included, listed); prepare its pull request."""
    from slipway.template.update import update_project

    if conflict not in ("inline", "rej"):
        raise Failure(f"--conflict must be inline or rej, not {conflict!r}", 2)
    update_project(
        Path.cwd(), out, branch, vcs_ref or None, conflict, log=lambda line: typer.echo(f"template-update: {line}")
    )


@app.command("template-pr")
def template_pr(
    out: OutOption = DEFAULT_OUT,
    base: Annotated[str, typer.Option(help="branch the pull request targets")] = "main",
) -> None:
    """Push the prepared update branch and open its pull request, or update the open one (needs GH_TOKEN)."""
    from slipway.template.update import propose

    _, message = propose(Path.cwd(), out, base)
    typer.echo(f"template-pr: {message}")


@app.command("template-link")
def template_link(
    template: Annotated[str, typer.Option(help="where the template lives, e.g. gh:acme/slipway")],
    version: Annotated[str, typer.Option(help="the template release this repository was made from, e.g. v0.1.0")],
    force: Annotated[bool, typer.Option(help="replace an existing answers file")] = False,
) -> None:
    """Join the update path from a repository made with "Use this template": write .copier-answers.yml."""
    from slipway.template.update import link_answers

    path = link_answers(Path.cwd(), template, version, force)
    typer.echo(f"template-link: wrote {path.name} ({template} at {version}); commit it, then `copier update --trust`")
    typer.echo(path.read_text().rstrip())
