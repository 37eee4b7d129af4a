"""The pull-request loop: pr.yml under act on a fresh clone, with a warm package cache.

    python bench/pr_workflow.py [--remote shared|embedded] [--mypy-cache saved|none] [--out ...]

A fresh clone gets a `feature` branch changing one training parameter (so train and evaluate must run), and pr.yml
runs on it with act exactly as tests/workflows/test_pr_workflow.py runs it (the same harness, stand-ins and warm uv
cache). `--remote shared` (the default): main's outputs and run cache were pushed to a DVC remote outside the
repository first, as main.yml does with a cloud remote (not timed), so the pull request restores the stages it did
not change; `--remote embedded`: the embedded remote only, so every stage runs (what a CI push to the embedded
remote leaves). Reported:
the whole run's wall time, each job's wall time, and inside each job the time of its own work (the `make` steps:
lint, tests, data checks, `dvc repro`, report, gate) against everything else (job set-up, checkout, Python and uv
set-up, `make setup`, artifacts). The own-work share is the figure to compare across machines; there is no
meaningful same-run baseline for a whole workflow, so the set-up overhead is the baseline the jobs are judged by.
Results go to bench/results/pr_workflow.json.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from benchlib import (
    RESULTS,
    ROOT,
    critical_path,
    job_walls,
    load_average,
    machine,
    markdown_table,
    step_times,
    timed,
    write_results,
)

sys.path.insert(0, str(ROOT / "tests"))

from support import fresh_clone, project_env, pull_data, reproduce, run
from workflows.act_harness import SAVED_MYPY_CACHE, host_uv_cache
from workflows.pr_scenarios import WORKFLOW, act, open_pull_request, set_params

# A `run:` step whose command is one of these is the job's own work; `make setup` (uv sync) is set-up.
OWN_WORK = (
    "make lint",
    "make test-fast",
    "make data-check",
    "make data repro",
    "make pr-pipeline",
    "make data report",
    "make comment",
    "make gate",
)


def own_work(step: str) -> bool:
    """True for the job's own steps (step names are ``<id> <name>``, act names a run step after its command)."""
    name = step.split(" ", 1)[1] if " " in step else step
    return name.startswith(OWN_WORK) or name.startswith(("Quality gate", "Data checks (", "The pipeline ("))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--remote", choices=["shared", "embedded"], default="shared")
    parser.add_argument("--mypy-cache", choices=["saved", "none"], default="saved")
    args = parser.parse_args()

    results: dict = {"machine": machine(), "remote": args.remote, "mypy_cache": args.mypy_cache}
    with tempfile.TemporaryDirectory() as tmp:
        holder: dict = {}
        shared = None
        if args.remote == "shared":  # main's run pushed its outputs there: made from a clone that reproduced them
            reproduced = reproduce(pull_data(fresh_clone(Path(tmp) / "reproduced")))
            shared = (Path(tmp) / "remote", reproduced)
        change = set_params(**{"train.logreg.C": 0.3})
        prepare_s = timed(lambda: holder.setdefault("repo", open_pull_request(Path(tmp), change, "C", shared)))
        record = Path(tmp) / "record"
        caches = {}
        if args.mypy_cache == "saved":
            (key,) = SAVED_MYPY_CACHE  # the entry the harness names for a saved cache, made from this clone here
            caches[key] = saved = Path(tmp) / "mypy-cache"
            run(["mypy"], holder["repo"], env=project_env(holder["repo"]) | {"MYPY_CACHE_DIR": str(saved)})
        # the host's uv cache as it is: on GitHub a job's fresh environment compiles what it imports
        workflow_run = act(holder["repo"], record, caches=caches, uv_cache=host_uv_cache())
        log = record / ".act" / "log.jsonl"
        RESULTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(log, RESULTS / "pr_workflow-act-log.jsonl")  # the raw log, to look into a figure
    if workflow_run.returncode != 0:
        sys.exit(f"pr.yml failed under act, no timing reported:\n{workflow_run.describe()}")

    walls = job_walls(workflow_run.events)
    steps = step_times(workflow_run.events)
    steps = [s for s in steps if s.stage == "Main" and s.step.split(" ", 1)[0].count("/") == 0]
    jobs: dict[str, dict[str, Any]] = {}
    for job, wall in walls.items():
        own = {s.step: round(s.seconds, 1) for s in steps if s.job == job and own_work(s.step)}
        jobs[job] = {
            "wall_s": round(wall, 1),
            "own_steps_s": own,
            "own_s": round(sum(own.values()), 1),
            "setup_and_overhead_s": round(wall - sum(own.values()), 1),
            "all_main_steps_s": {s.step: round(s.seconds, 1) for s in steps if s.job == job},
        }
    results |= {
        "fresh_clone_and_branch_s": round(prepare_s, 1),  # with --remote shared: main's pipeline run and push too
        "act_total_s": round(workflow_run.seconds, 1),
        "load_avg_end": load_average(),
        "job_results": workflow_run.job_results,
        "jobs": jobs,
    }
    needs = {
        job: [spec["needs"]] if isinstance(spec.get("needs"), str) else spec.get("needs", [])
        for job, spec in yaml.safe_load((ROOT / WORKFLOW).read_text())["jobs"].items()
    }
    path_jobs, path_s = critical_path({job: j["wall_s"] for job, j in jobs.items()}, needs)
    results["critical_path"] = {"jobs": path_jobs, "wall_s": round(path_s, 1)}
    results["critical_path_own_s"] = round(sum(jobs[j]["own_s"] for j in path_jobs), 1)
    own_total = sum(j["own_s"] for j in jobs.values())
    job_total = sum(j["wall_s"] for j in jobs.values())
    results["own_share_of_job_time"] = round(own_total / job_total, 3) if job_total else None
    path = write_results("pr_workflow", results, args.out)

    print(
        f"pr.yml under act (fresh clone, warm uv cache, {args.remote} DVC remote, mypy cache {args.mypy_cache}): "
        f"{workflow_run.seconds:.1f} s wall, "
        f"load {results['machine']}"
    )
    rows = [
        (job, j["wall_s"], j["own_s"], j["setup_and_overhead_s"], j["own_s"] / j["wall_s"]) for job, j in jobs.items()
    ]
    print(markdown_table(["job", "wall s", "own steps s", "set-up + overhead s", "own share"], rows))
    for job, j in jobs.items():
        print(f"  {job}: " + ", ".join(f"{name} {s:.1f}s" for name, s in j["all_main_steps_s"].items()))
    print(
        f"own work is {results['own_share_of_job_time']:.0%} of the jobs' summed wall time "
        f"(jobs overlap: tests and pipeline run in parallel, report waits for both)"
    )
    print(
        f"critical path {' -> '.join(path_jobs)}: {path_s:.0f} s of job time, {results['critical_path_own_s']:.0f} s "
        f"of it the jobs' own steps; the rest of the {workflow_run.seconds:.0f} s is act and job set-up"
    )
    print(f"load averages at the end: {results['load_avg_end']}  ->  {path}")


if __name__ == "__main__":
    main()
