"""The static security scan of the template (checkov), before and after the hardening.

Prints ``name value`` lines for each template: ``<which>_passed``, ``<which>_failed``,
``<which>_skipped`` (a skip is a finding accepted in the template's ``Metadata`` with its reason),
and ``failed_ratio_after_to_before``. "before" is ``template.yaml`` as of ``--before`` (default: the
commit before the hardening), "after" is the work tree's. Needs ``make lint``'s checkov venv. Run:
``.venv/bin/python benchmarks/template_scan.py [--before REF]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
#: the last commit before least privilege, retention, DLQs and logs came into the template
BEFORE = "f00b02b"


def scan(template: Path) -> dict[str, int]:
    done = subprocess.run(
        [str(CHECKOV), "-f", str(template), "--framework", "cloudformation", "-o", "json", "--quiet"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    # --quiet with no failure prints only the summary; with failures, the whole report.
    report = json.loads(done.stdout)
    report = report[0] if isinstance(report, list) else report
    summary = report.get("summary", report)
    return {k: int(summary.get(k, 0)) for k in ("passed", "failed", "skipped")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", default=BEFORE, help="git ref of the template to compare with")
    args = parser.parse_args()
    if not CHECKOV.exists():
        raise SystemExit(f"{CHECKOV} is missing: run `make lint` once (it installs checkov there)")
    old = subprocess.run(
        ["git", "show", f"{args.before}:template.yaml"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    with tempfile.TemporaryDirectory() as tmp:
        before_path = Path(tmp) / "template.yaml"
        before_path.write_text(old)
        counts = {"before": scan(before_path), "after": scan(ROOT / "template.yaml")}
    for which, found in counts.items():
        for name, value in found.items():
            print(f"{which}_{name} {value}")
    before_failed = counts["before"]["failed"]
    ratio = counts["after"]["failed"] / before_failed if before_failed else 0.0
    print(f"failed_ratio_after_to_before {ratio:.2f}")


if __name__ == "__main__":
    main()
