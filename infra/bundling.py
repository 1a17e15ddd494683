"""The Lambda asset, built without Docker.

Dependencies are installed with pip for Lambda's platform (manylinux, arm64, CPython 3.12,
wheels only), then the ``tray_agent`` package is copied beside them. Local-only code
(``tray_local``: simulator, demo, CLI) is never part of the asset.
"""

from __future__ import annotations

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


def runtime_requirements() -> list[str]:
    """The project's runtime dependencies, straight from pyproject.toml."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return list(project["dependencies"])


def install_dependencies(out: Path) -> None:
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
            *runtime_requirements(),
        ],
        check=True,
    )


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
    def try_bundle(self, output_dir: str, _options: Any = None) -> bool:
        install_dependencies(Path(output_dir))
        copy_package(Path(output_dir))
        return True


def lambda_code() -> lambda_.Code:
    """One asset shared by every function (same package, different handlers)."""
    return lambda_.Code.from_asset(
        str(FUNCTIONS_DIR),
        exclude=["tray_local", "**/__pycache__", "*.egg-info"],
        bundling=BundlingOptions(
            # Only used if local bundling declines; it never does on a machine with pip.
            image=DockerImage.from_registry("public.ecr.aws/sam/build-python3.12:latest"),
            local=PipLocalBundling(),  # type: ignore[arg-type]  # jsii passes options positionally
            command=["bash", "-c", "echo 'local bundling is expected' && exit 1"],
        ),
    )
