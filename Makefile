# The two commands a fresh machine needs (see README.md). make runs recipes with /bin/sh
# (dash on Debian): every recipe calls a bash script, never sources one.
.PHONY: serve test setup build bench

serve: setup
	bash scripts/serve.sh

test:
	bash scripts/test.sh

setup:
	bash scripts/setup.sh all

# The static site for hosting, in dist/ (README "Hosting"; the Pages workflow runs the same).
build:
	bash scripts/setup.sh build
	bash scripts/build.sh

# Browser vs native speed on the same prompts, with ratios (prints figures, asserts nothing).
bench: setup
	bash scripts/bench.sh
