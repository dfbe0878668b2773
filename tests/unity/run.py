"""Builds the Unity package with Mono and runs its tests outside Unity (``make test-unity``).

1. compiles the engine-free core, a CI-only ``UnityEngine`` stub, the MonoBehaviour wrappers and the
   sample against it (a type check), the NUnit tests, the console test runner, the end-to-end
   program and the benchmark (``mcs``, C# 7.2 subset: Debian's Mono has no Roslyn);
2. writes the contract fixtures (``fixtures.py``) and runs the tests against them;
3. runs the end-to-end test: the C# client against the real serving app under uvicorn (``e2e.py``).

Unity needs a ``.meta`` file (a stable GUID) beside every file and folder of a package installed from git;
the build fails when one is missing, and ``run.py meta`` writes the missing ones.

Usage: ``python tests/unity/run.py [test|bench|meta] [--build-dir DIR]``
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "unity"
TOOLS = PACKAGE / "Tools~"
NUNIT = Path("/usr/lib/cli/nunit.framework-2.6.3/nunit.framework.dll")


def _sources(folder: Path) -> list[str]:
    return sorted(str(p) for p in folder.rglob("*.cs"))


def _mcs(out: Path, sources: list[str], *, refs: list[str], exe: bool = False) -> None:
    target = "-target:exe" if exe else "-target:library"
    cmd = ["mcs", target, "-langversion:7.2", "-warnaserror+", "-nowarn:1591", f"-out:{out}"]
    cmd += [f"-r:{r}" for r in refs] + sources
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise SystemExit(f"mcs failed for {out.name}")


def build(out: Path) -> None:
    """Every assembly into ``out``; fails on any compiler warning."""
    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(NUNIT, out / NUNIT.name)
    core, stub = out / "LiveML.Core.dll", out / "UnityEngine.dll"
    net = ["System.Net.Http"]
    _mcs(core, _sources(PACKAGE / "Runtime" / "Core"), refs=net)
    _mcs(stub, _sources(TOOLS / "UnityEngineStub"), refs=[])
    wrappers = _sources(PACKAGE / "Runtime" / "Unity") + _sources(PACKAGE / "Samples~")
    _mcs(out / "LiveML.Unity.dll", wrappers, refs=[str(core), str(stub), *net])
    _mcs(out / "LiveML.Tests.dll", _sources(PACKAGE / "Tests"), refs=[str(core), str(out / NUNIT.name), *net])
    _mcs(out / "TestRunner.exe", [str(TOOLS / "TestRunner.cs")], refs=[str(out / NUNIT.name)], exe=True)
    _mcs(out / "LiveML.E2E.exe", [str(TOOLS / "E2E.cs")], refs=[str(core), *net], exe=True)
    _mcs(out / "LiveML.Bench.exe", [str(TOOLS / "Bench.cs")], refs=[str(core), *net], exe=True)


_IMPORTERS = {
    ".cs": "MonoImporter:\n  externalObjects: {}\n  serializedVersion: 2\n  defaultReferences: []\n"
    "  executionOrder: 0\n  icon: {instanceID: 0}\n",
    ".asmdef": "AssemblyDefinitionImporter:\n  externalObjects: {}\n",
    ".json": "TextScriptImporter:\n  externalObjects: {}\n",
    ".md": "TextScriptImporter:\n  externalObjects: {}\n",
}
_TAIL = "  userData: \n  assetBundleName: \n  assetBundleVariant: \n"


def _assets() -> list[Path]:
    """Files and folders Unity imports: everything but ``.meta`` files and folders ending in ``~``."""
    out = []
    for path in sorted(PACKAGE.rglob("*")):
        rel = path.relative_to(PACKAGE)
        if any(part.endswith("~") or part.startswith(".") for part in rel.parts) or path.suffix == ".meta":
            continue
        out.append(path)
    return out


def missing_meta() -> list[Path]:
    return [p for p in _assets() if not Path(f"{p}.meta").exists()]


def write_meta() -> None:
    for path in missing_meta():
        rel = path.relative_to(PACKAGE).as_posix()
        guid = hashlib.md5(f"com.liveml.client/{rel}".encode()).hexdigest()  # stable, not a security use
        head = f"fileFormatVersion: 2\nguid: {guid}\n"
        if path.is_dir():
            body = "folderAsset: yes\nDefaultImporter:\n  externalObjects: {}\n"
        elif path.name == "package.json":
            body = "PackageManifestImporter:\n  externalObjects: {}\n"
        else:
            body = _IMPORTERS.get(path.suffix, "DefaultImporter:\n  externalObjects: {}\n")
        Path(f"{path}.meta").write_text(head + body + _TAIL, encoding="utf-8")


def _python(script: str, *args: str) -> None:
    # As a module from the root, so the scripts can share the tests' helpers (``tests.*``).
    module = f"tests.unity.{script.removesuffix('.py')}"
    subprocess.run([sys.executable, "-m", module, *args], check=True, cwd=ROOT)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", nargs="?", default="test", choices=["test", "bench", "meta"])
    parser.add_argument("--build-dir", default=str(ROOT / "build" / "unity"))
    args = parser.parse_args()
    if args.what == "meta":
        write_meta()
        return 0
    if missing := missing_meta():
        names = ", ".join(str(p.relative_to(ROOT)) for p in missing)
        raise SystemExit(f"Unity needs a .meta file beside: {names} (python tests/unity/run.py meta)")
    out = Path(args.build_dir)
    build(out)
    fixtures = out / "fixtures"
    if args.what == "bench":
        if not (fixtures / "compact" / "bench-gb100.json").exists():
            _python("fixtures.py", str(fixtures))
        return subprocess.run(["mono", str(out / "LiveML.Bench.exe"), str(fixtures)], check=False).returncode
    _python("fixtures.py", str(fixtures))
    env = {**os.environ, "LIVEML_UNITY_FIXTURES": str(fixtures)}
    tests = subprocess.run(
        ["mono", str(out / "TestRunner.exe"), str(out / "LiveML.Tests.dll")], env=env, check=False
    )
    if tests.returncode != 0:
        return tests.returncode
    _python("e2e.py", str(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
