# NetBranch entry points. `make run` and `make test` are the two commands of the README.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1:8000
PYTEST_ARGS ?=

.PHONY: run test bench lint format messages worker beat install clean-db

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(VENV)/bin/python
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

## Run the portal with the demo data at http://127.0.0.1:8000 (SQLite and eager tasks unless
## DATABASE_URL / REDIS_URL are set).
run: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	@echo "NetBranch: http://$(HOST)/  (log in with a demo account above, password netbranch-demo)"
	$(PY) manage.py runserver $(HOST)

## The whole test suite (SQLite by default; Postgres and Redis when DATABASE_URL and REDIS_URL are set).
test: install
	$(PY) -m pytest -n auto --dist loadfile $(PYTEST_ARGS)

## Benchmarks: figures are printed, not asserted by the test suite.
bench: install
	$(PY) manage.py migrate --noinput
	$(PY) tests/bench/page_weight.py
	@case "$$DATABASE_URL" in postgres*) $(PY) tests/bench/fanout.py --members 100000 ;; \
	  *) echo "fan-out benchmark skipped: set DATABASE_URL=postgres://... to run it" ;; esac
	@case "$$DATABASE_URL" in postgres*) $(PY) tests/bench/meeting_reminders.py --meetings 10000 ;; \
	  *) echo "reminder benchmark skipped: set DATABASE_URL=postgres://... to run it" ;; esac
	@case "$$DATABASE_URL" in postgres*) $(PY) tests/bench/radar.py --members 100000 ;; \
	  *) echo "radar benchmark skipped: set DATABASE_URL=postgres://... to run it" ;; esac
	@case "$$DATABASE_URL" in postgres*) $(PY) tests/bench/review_dashboard.py --members 100000 ;; \
	  *) echo "dashboard benchmark skipped: set DATABASE_URL=postgres://... to run it" ;; esac

lint: install
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(VENV)/bin/djlint templates */templates --lint

format: install
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

## Extract and compile translations (needs GNU gettext). Compiled .mo files are committed.
messages: install
	$(PY) manage.py makemessages --locale zh_Hans --locale en --ignore "$(VENV)/*" --ignore "tests/*" --no-obsolete
	$(PY) manage.py compilemessages --ignore "$(VENV)/*"

worker: install
	$(VENV)/bin/celery -A portal worker --loglevel INFO

beat: install
	$(VENV)/bin/celery -A portal beat --loglevel INFO

clean-db:
	rm -f db.sqlite3
