"""The verbs that keep a project current with the Slipway template: template-update, template-pr, template-link
(docs/upgrading.md; .github/workflows/template-update.yml calls the first two)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from slipway.cli.app import app

OutOption = Annotated[Path, typer.Option("--out", help="folder for the prepared update (bundle, title, text)")]
DEFAULT_OUT = Path("build/template-update")


def _github_output(**values: str) -> None:
    """Step outputs for GitHub Actions (no-op elsewhere)."""
    path = os.environ.get("GITHUB_OUTPUT")
    if path:
        with open(path, "a") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in values.items())


def _run_url() -> str:
    if not os.environ.get("GITHUB_RUN_ID"):
        return ""
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    return f"{server}/{os.environ.get('GITHUB_REPOSITORY', '')}/actions/runs/{os.environ['GITHUB_RUN_ID']}"


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
    from slipway.template.update import ANSWERS_FILE, TemplateError, prepare_update, read_answers

    if conflict not in ("inline", "rej"):
        typer.echo(f"template-update: --conflict must be inline or rej, not {conflict!r}", err=True)
        raise typer.Exit(2)
    root = Path.cwd()
    try:
        if read_answers(root) is None:
            typer.echo(
                f"template-update: no {ANSWERS_FILE} here, so nothing to update: this is the template itself, or a "
                "repository made with 'Use this template' that has not joined yet (slipway template-link)."
            )
            _github_output(changed="false")
            return
        proposal = prepare_update(root, out, branch, vcs_ref or None, conflict, _run_url())
    except TemplateError as error:
        typer.echo(f"template-update: {error}", err=True)
        raise typer.Exit(1) from None
    if proposal is None:
        typer.echo("template-update: the project is up to date with the template; nothing to propose")
        _github_output(changed="false")
        return
    typer.echo(f"template-update: {proposal.title} on branch {proposal.branch}")
    for path in proposal.conflicts:
        typer.echo(f"template-update: conflict in {path}")
    _github_output(changed="true", conflicts=str(len(proposal.conflicts)))


@app.command("template-pr")
def template_pr(
    out: OutOption = DEFAULT_OUT,
    base: Annotated[str, typer.Option(help="branch the pull request targets")] = "main",
) -> None:
    """Push the prepared update branch and open its pull request, or update the open one (needs GH_TOKEN)."""
    from slipway.template.update import TemplateError, propose

    try:
        _, message = propose(Path.cwd(), out, base)
    except (TemplateError, OSError) as error:
        typer.echo(f"template-pr: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"template-pr: {message}")


@app.command("template-link")
def template_link(
    template: Annotated[str, typer.Option(help="where the template lives, e.g. gh:acme/slipway")],
    version: Annotated[str, typer.Option(help="the template release this repository was made from, e.g. v0.1.0")],
    force: Annotated[bool, typer.Option(help="replace an existing answers file")] = False,
) -> None:
    """Join the update path from a repository made with "Use this template": write .copier-answers.yml."""
    from slipway.template.update import TemplateError, link_answers

    try:
        path = link_answers(Path.cwd(), template, version, force)
    except (TemplateError, OSError) as error:
        typer.echo(f"template-link: {error}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"template-link: wrote {path.name} ({template} at {version}); commit it, then `copier update --trust`")
    typer.echo(path.read_text().rstrip())
