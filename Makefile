# The two commands a fresh machine needs (see README.md).
.PHONY: serve test setup build

serve: setup
	. scripts/common.sh && trunk serve --release

test:
	bash scripts/test.sh

setup:
	bash scripts/setup.sh all

# The static site for hosting, in dist/.
build: setup
	. scripts/common.sh && trunk build --release
