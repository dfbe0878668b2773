# What the functions built by `sam build` with `BuildMethod: makefile` share: each one's Makefile
# includes this file, then trims and smoke-tests its own folder.

# Any Python 3.12 that has pip: ours first (SAM runs make with the venv on PATH), else the system's.
PYTHON ?= $(shell command -v python3.12 || command -v python3)
# Linux x86_64 wheels for the python3.12 runtime (Amazon Linux 2023, glibc 2.34), whatever machine
# builds them and every older manylinux tag.
PIP_PLATFORM := $(foreach v,2_34 2_28 2_27 2_17,--platform manylinux_$(v)_x86_64) --implementation cp --python-version 3.12 --only-binary=:all:

# requirements.txt, as those wheels, into the folder $(1) (run from the folder that holds it, as SAM does).
define pip-install
	@$(PYTHON) -c 'import sys; assert sys.version_info[:2] == (3, 12), f"need Python 3.12, not {sys.version}"'
	$(PYTHON) -m pip install --quiet --no-compile --disable-pip-version-check $(PIP_PLATFORM) \
		--target "$(1)" -r requirements.txt
endef

# The function's requirements and its handler into ARTIFACTS_DIR.
define install-function
	$(call pip-install,$(ARTIFACTS_DIR))
	cp app.py "$(ARTIFACTS_DIR)/"
endef
