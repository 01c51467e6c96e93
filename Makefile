# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := placeevents

DEMO_ORGANISER := organiser@example.org
DEMO_PASSWORD := demo-organiser-password

.PHONY: install lock run test lint

# Exact versions with hashes of everything the venv holds: pyproject.toml's dependencies and
# its test and redis extras. `make lock` makes it; install takes it as it is, then the project.
LOCK := requirements.lock
UV := uv==0.13.9

$(VENV)/.installed: $(LOCK) pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

install: $(VENV)/.installed

# Pin the newest versions pyproject.toml allows (on every platform, Python 3.11 and later):
# run after changing its dependencies, then commit requirements.lock.
lock:
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet '$(UV)'
	$(BIN)/python -m uv pip compile pyproject.toml --extra test --extra redis --universal \
		--python-version 3.11 --generate-hashes --upgrade --custom-compile-command 'make lock' \
		--output-file $(LOCK) --quiet

# ical.js, the calendar parser the suite checks .ics output with, and axe-core and the Nu HTML
# checker (vnu.jar, run with java) that the journeys check every page with; without node or
# java those checks are skipped on a developer machine (CI installs both, and there they must
# run). No install scripts: vnu-jar's would fetch a Java of its own; we use the system's.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: the ical.js, axe-core and HTML checker checks will be skipped"; \
	fi

run: install
	PLACEEVENTS_ENV=development $(BIN)/flask db upgrade
	PLACEEVENTS_ENV=development $(BIN)/flask demo load --if-empty \
		--organiser $(DEMO_ORGANISER) --password $(DEMO_PASSWORD)
	@echo "Organiser login: $(DEMO_ORGANISER) / $(DEMO_PASSWORD) at http://127.0.0.1:5000/login"
	@echo "Mail without MAIL_SERVER lands in the dev mailbox: http://127.0.0.1:5000/dev/mailbox"
	@# The worker runs beside the server and is stopped with it, however the server ends.
	PLACEEVENTS_ENV=development bash -c '$(BIN)/flask worker & worker=$$!; \
		trap "kill $$worker 2>/dev/null; wait $$worker" EXIT; \
		$(BIN)/flask run --host 127.0.0.1 --port 5000'

lint: install
	$(BIN)/ruff check .

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set.
test: install node_modules/.installed
	$(BIN)/ruff check .
	TEST_DATABASE_URL= $(BIN)/pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== the suite again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(BIN)/pytest; \
	fi
