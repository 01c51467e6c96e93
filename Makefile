# Two commands do all set-up on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export FLASK_APP := placeevents

DEMO_ORGANISER := organiser@example.org
DEMO_PASSWORD := demo-organiser-password

.PHONY: install run test lint

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,redis]'
	touch $@

install: $(VENV)/.installed

# ical.js, the calendar parser the suite checks .ics output with; without node the checks
# are skipped on a developer machine (CI installs node, and there they must run).
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
		npm ci --no-audit --no-fund --loglevel=error && touch $@; \
	else \
		echo "npm not found: the ical.js calendar checks will be skipped"; \
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
	$(BIN)/pytest
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== the suite again on PostgreSQL ($$TEST_DATABASE_URL)"; \
		$(BIN)/pytest; \
	fi
