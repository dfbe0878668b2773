# What the functions built by `sam build` with `BuildMethod: makefile` share: each one's Makefile
# includes this file, then trims and smoke-tests its own folder.

# Any Python 3.12 that has pip: ours first (SAM runs make with the venv on PATH), else the system's.
PYTHON ?= $(shell command -v python3.12 || command -v python3)
# Linux x86_64 wheels for the python3.12 runtime (Amazon Linux 2023, glibc 2.34), whatever machine
# builds them and every older manylinux tag.
PIP_PLATFORM := $(foreach v,2_34 2_28 2_27 2_17,--platform manylinux_$(v)_x86_64) --implementation cp --python-version 3.12 --only-binary=:all:

# The function's requirements, as those wheels, and its handler into ARTIFACTS_DIR (run from the
# function's folder, as SAM does).
define install-function
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 12), f"need Python 3.12, not {sys.version}"'
	$(PYTHON) -m pip install --quiet --no-compile --disable-pip-version-check $(PIP_PLATFORM) \
		--target "$(ARTIFACTS_DIR)" -r requirements.txt
	cp app.py "$(ARTIFACTS_DIR)/"
endef
