"""A skipped test fails the run unless ``ALLOWED_SKIPS`` in tests/conftest.py names it with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

_HOOK = (Path(__file__).resolve().parents[1] / "conftest.py").read_text()


def test_an_unlisted_skip_fails_and_an_allowed_one_passes(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        _HOOK.replace("ALLOWED_SKIPS: dict[str, str] = {}", 'ALLOWED_SKIPS = {"test_b.py": "x"}')
    )
    pytester.makepyfile(
        test_a="import pytest\n\ndef test_skipped():\n    pytest.skip('no LocalStack here')\n",
        test_b="import pytest\n\ndef test_allowed():\n    pytest.skip('allowed')\n",
        test_c="import pytest\n\n@pytest.mark.xfail(reason='known')\ndef test_known():\n    assert False\n",
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines(["*not on the allow-list*ALLOWED_SKIPS*"])
