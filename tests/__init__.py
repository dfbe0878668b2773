"""The test suites. A regular package, so a third-party wheel that installs a top-level ``tests`` package
(some do) can never shadow these helpers."""
