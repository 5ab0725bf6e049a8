"""Check the container files without a container engine.

Static checks (always): the Dockerfile is multi-stage on a slim Python base, installs the
lockfile with `--require-hashes`, installs bubblewrap, runs as a non-root user, has a
HEALTHCHECK on /readyz; compose.yaml validates against the Compose specification's JSON
schema (vendored by check-jsonschema, offline) and has PostgreSQL and Redis;
docker/relaygate.yaml is a valid relaygate configuration.

`--build`: also run the Dockerfile's build stage here — its COPY and RUN lines in order, in
a scratch directory, with /opt/relaygate replaced by a fresh venv — and the built
`relaygate` command. Not tested: the base image, apt-get (bubblewrap in the image), the
runtime stage, the HEALTHCHECK running, compose actually starting the services.

    python scripts/container_build_check.py [--build]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from importlib.resources import files
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent


def dockerfile_lines(path: Path) -> list[tuple[str, str]]:
    """(instruction, arguments) with continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", path.read_text())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            out.append((instruction.upper(), rest.strip()))
    return out


def static_problems(root: Path = ROOT) -> list[str]:
    lines = dockerfile_lines(root / "Dockerfile")
    problems = []
    stages = [rest for instruction, rest in lines if instruction == "FROM"]
    if len(stages) < 2:
        problems.append("Dockerfile: expected a multi-stage build")
    if not all(re.match(r"python:[0-9.]+-slim\b", stage) for stage in stages):
        problems.append("Dockerfile: every stage should start from a slim Python image")
    runs = " ".join(rest for instruction, rest in lines if instruction == "RUN")
    if "--require-hashes" not in runs or "requirements.lock" not in runs:
        problems.append("Dockerfile: install requirements.lock with --require-hashes")
    if "bubblewrap" not in runs:
        problems.append("Dockerfile: install bubblewrap (the tool sandbox)")
    users = [rest for instruction, rest in lines if instruction == "USER"]
    if not users or users[-1] in ("root", "0"):
        problems.append("Dockerfile: the final stage must run as a non-root USER")
    checks = [rest for instruction, rest in lines if instruction == "HEALTHCHECK"]
    if not checks or "/readyz" not in checks[-1]:
        problems.append("Dockerfile: HEALTHCHECK on /readyz")
    problems += compose_problems(root / "compose.yaml")
    return problems


def compose_schema() -> dict[str, object]:
    vendor = files("check_jsonschema.builtin_schemas.vendor")
    schema: dict[str, object] = json.loads((vendor / "compose-spec.json").read_text())
    return schema


def compose_problems(path: Path) -> list[str]:
    document = yaml.safe_load(path.read_text())
    validator = jsonschema.Draft7Validator(compose_schema())
    problems = [f"compose.yaml: {'/'.join(map(str, error.absolute_path))}: {error.message}"
                for error in validator.iter_errors(document)]
    services = document.get("services", {})
    images = " ".join(str(service.get("image", "")) for service in services.values())
    for needed in ("postgres", "redis"):
        if needed not in images:
            problems.append(f"compose.yaml: no {needed} service")
    return problems


def run_build_stage(root: Path = ROOT) -> Path:
    """The build stage's COPY and RUN lines, here; the scratch directory it built in."""
    scratch = Path(tempfile.mkdtemp(prefix="relaygate-image-"))
    venv = scratch / "opt-relaygate"
    workdir = scratch / "src"
    env = {**os.environ}
    stage = None
    for instruction, rest in dockerfile_lines(root / "Dockerfile"):
        if instruction == "FROM":
            stage = rest.split()[-1]
            continue
        if stage != "build":
            continue
        if instruction == "ENV":
            for item in shlex.split(rest):
                name, _, value = item.partition("=")
                env[name] = value
        elif instruction == "WORKDIR":
            workdir.mkdir(parents=True, exist_ok=True)
        elif instruction == "COPY":
            *sources, _ = shlex.split(rest)
            for source in sources:
                origin = root / source
                if origin.is_dir():
                    shutil.copytree(origin, workdir / source, dirs_exist_ok=True)
                else:
                    shutil.copy2(origin, workdir / Path(source).name)
        elif instruction == "RUN":
            command = rest.replace("/opt/relaygate", str(venv)).replace("python -m venv",
                                                                        f"{sys.executable} -m venv")
            print(f"RUN {command}", flush=True)
            subprocess.run(["bash", "-euo", "pipefail", "-c", command], cwd=workdir, env=env,
                           check=True)
    return scratch


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build", action="store_true", help="run the build stage too")
    args = parser.parse_args()
    problems = static_problems()
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        return 1
    print("Dockerfile and compose.yaml: static checks passed")
    if args.build:
        scratch = run_build_stage()
        print(f"build stage ran in {scratch}")
        shutil.rmtree(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
