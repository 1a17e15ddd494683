"""The Lambda assets, one per role, built without Docker.

Dependencies are installed with pip for Lambda's platform (manylinux, arm64, CPython 3.12,
wheels only), then the ``tray_agent`` package is copied beside them. Local-only code
(``tray_local``: simulator, demo, CLI) is never part of an asset.

One asset per role, each with only the libraries its handlers import (smaller cold starts):

- ``api``: no PDF engine (pypdfium2); the model client (openai) only when the stage configures
  a model (``openai_model`` context), since the brain imports it only then;
- ``monitor``: no PDF engine;
- ``po``: the PO pipeline's steps and intake: everything.

No asset carries boto3/botocore (32 MB): the Lambda Python runtime provides them.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import jsii
from aws_cdk import BundlingOptions, DockerImage, ILocalBundling
from aws_cdk import aws_lambda as lambda_

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_DIR = ROOT / "functions"
PACKAGE = "tray_agent"


# Provided by the Lambda runtime: never bundled (X-Ray's SDK pulls botocore in; it is pruned).
RUNTIME_PROVIDED = frozenset({"boto3", "botocore"})
_PRUNED = ("boto3", "botocore", "s3transfer")
ROLES = ("api", "monitor", "po")


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].strip().lower()


def runtime_requirements() -> list[str]:
    """The project's runtime dependencies, straight from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def role_requirements(role: str, *, with_model: bool = False) -> list[str]:
    """What one role's asset installs (see the module docstring)."""
    if role not in ROLES:
        raise ValueError(f"unknown asset role {role!r}: one of {ROLES}")
    excluded = set(RUNTIME_PROVIDED)
    if role in ("api", "monitor"):
        excluded.add("pypdfium2")
    if role == "api" and not with_model:
        excluded.add("openai")
    return [r for r in runtime_requirements() if _name(r) not in excluded]


def install_dependencies(out: Path, requirements: list[str] | None = None) -> None:
    """Wheels for Lambda's platform (arm64, CPython 3.12), whatever machine synthesizes."""
    subprocess.run(  # noqa: S603 - fixed argument list, no shell
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-compile",
            "--platform",
            "manylinux2014_aarch64",
            "--implementation",
            "cp",
            "--python-version",
            "3.12",
            "--only-binary=:all:",
            "--target",
            str(out),
            *(runtime_requirements() if requirements is None else requirements),
        ],
        check=True,
    )
    prune_runtime_provided(out)


def prune_runtime_provided(out: Path) -> None:
    """Drop what the Lambda runtime already has (boto3, botocore, s3transfer: ~33 MB)."""
    for name in _PRUNED:
        for path in [out / name, *out.glob(f"{name}-*.dist-info")]:
            if path.is_dir():
                shutil.rmtree(path)


def copy_package(out: Path) -> None:
    """Only the deployed package: tray_local (simulator, demo, CLI) stays behind."""
    shutil.copytree(
        FUNCTIONS_DIR / PACKAGE,
        out / PACKAGE,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )


@jsii.implements(ILocalBundling)
class PipLocalBundling:
    def __init__(self, requirements: list[str]) -> None:
        self._requirements = requirements

    def try_bundle(self, output_dir: str, _options: Any = None) -> bool:
        install_dependencies(Path(output_dir), self._requirements)
        copy_package(Path(output_dir))
        return True


def lambda_code(role: str = "po", *, with_model: bool = False) -> lambda_.Code:
    """The asset of one role (same package, different handlers and libraries)."""
    requirements = role_requirements(role, with_model=with_model)
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        exclude=["tray_local", "**/__pycache__", "*.egg-info"],
        bundling=BundlingOptions(
            # Part of the asset hash: the same sources make a different asset per role.
            environment={
                "TRAY_AGENT_ASSET_ROLE": role,
                "TRAY_AGENT_ASSET_REQUIREMENTS": " ".join(requirements),
            },
            # Only used if local bundling declines; it never does on a machine with pip.
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.12:latest"),
            local=PipLocalBundling(requirements),  # type: ignore[arg-type]  # jsii passes options positionally
            command=["bash", "-c", "echo 'local bundling is expected' && exit 1"],
        ),
    )
