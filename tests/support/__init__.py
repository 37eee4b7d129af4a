"""Helpers for tests that run the project as a user would: in a fresh copy, with real commands and real servers.

One module per concern (commands, clones, servers, demo project files, stand-in records, secrets, monitoring data,
a loopback HTTPS git remote); the names most tests need are importable from ``support`` itself.
"""

from support.clones import (
    built_once,
    copy_clone,
    fresh_clone,
    git_clone,
    link_dvc_cache,
    pull_data,
    reproduce,
    tree_digest,
)
from support.commands import REPO_ROOT, VENV_BIN, git, git_tags, project_env, run
from support.demo import DEMO, demo_config, demo_project
from support.records import gh_calls, records
from support.secrets import leaks
from support.servers import free_port, start_server, stop_server, wait_ready

__all__ = [
    "DEMO",
    "REPO_ROOT",
    "VENV_BIN",
    "built_once",
    "copy_clone",
    "demo_config",
    "demo_project",
    "free_port",
    "fresh_clone",
    "gh_calls",
    "git",
    "git_clone",
    "git_tags",
    "leaks",
    "link_dvc_cache",
    "project_env",
    "pull_data",
    "records",
    "reproduce",
    "run",
    "start_server",
    "stop_server",
    "tree_digest",
    "wait_ready",
]
