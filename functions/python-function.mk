# What the functions (and the liveml layer) built by `sam build` with `BuildMethod: makefile` share:
# each one's Makefile includes this file, installs, drops what it never reads, compiles and
# smoke-tests its own folder with these steps.

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

# Top-level packages $(1) out of ARTIFACTS_DIR: folders, modules and their dist-info.
define drop-packages
	for p in $(1); do \
		find "$(ARTIFACTS_DIR)" -maxdepth 1 \( -iname "$$p" -o -iname "$$p.py" -o -iname "$$p-*.dist-info" \) -exec rm -rf {} +; done
endef

# Files no function reads at run time: console scripts, tests, the build machine's bytecode, type
# stubs, and the sources and headers of compiled code. numpy.testing (which scipy imports) reads one
# module from numpy/_core/tests: that folder keeps its two.
define drop-unread-files
	rm -rf "$(ARTIFACTS_DIR)/bin"
	if [ -d "$(ARTIFACTS_DIR)/numpy/_core/tests" ]; then find "$(ARTIFACTS_DIR)/numpy/_core/tests" -mindepth 1 \
		-not -name _natype.py -not -name __init__.py -exec rm -rf {} +; fi
	find "$(ARTIFACTS_DIR)" -depth -type d \( -name tests -not -path '*/numpy/_core/tests' -o -name __pycache__ \) \
		-exec rm -rf {} +
	find "$(ARTIFACTS_DIR)" -type f \( -name '*.pyi' -o -name '*.pyc' -o -name '*.pyx' -o -name '*.pxd' \
		-o -name '*.pxi' -o -name '*.c' -o -name '*.cpp' -o -name '*.h' -o -name '*.hpp' \) -delete
endef

# Bytecode for everything in $(1). Lambda's code and layer folders are read-only, so what is not
# shipped compiled is compiled again by every cold start. unchecked-hash: the bytecode is used
# whatever mtime the deployment package gives its sources, with no source read or compared.
define compile
	$(PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash "$(1)"
endef

# Runs $(SMOKE) against ARTIFACTS_DIR alone (-S: nothing from site-packages leaks in), where the
# wheels can load, then prints the folder's size; $(1) names the function, $(2) says what passed.
define smoke-test
	@if [ "$$(uname -sm)" = "Linux x86_64" ]; then \
		PYTHONDONTWRITEBYTECODE=1 MPLCONFIGDIR="$$(mktemp -d)" PYTHONPATH="$(ARTIFACTS_DIR)" \
		$(PYTHON) -S -W ignore -c 'import sys; MODEL = "$(MODEL)"; $(SMOKE)' && echo "$(1): $(2)"; fi
	@du -sm "$(ARTIFACTS_DIR)" | awk '{print "$(1): " $$1 " MB unzipped (without the liveml layer)"}'
endef
