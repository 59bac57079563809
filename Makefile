# The two commands a newcomer needs: `make run` and `make test`.
.PHONY: run test check generate unit setup train lock bench clean

run:    ## set up, train if needed, and serve the assistant on http://127.0.0.1:5005/chat/
	@scripts/run.sh

test:   ## everything CI runs
	@scripts/test.sh

check:  ## only checks: ruff, mypy, lint-imports, the generators' --check, rasa data validate
	@scripts/check.sh

generate:  ## run every generator in order (intake wording, crisis responses, treatment info)
	@scripts/generate.sh

unit:   ## the fast unit tests (no servers, not marked slow); prints the time
	@scripts/unit.sh

setup:  ## create .venv, install locked dependencies, migrate the database
	@scripts/setup.sh

train:  ## train the model if its inputs changed; prints its path
	@scripts/setup.sh && scripts/train.sh

lock:   ## re-resolve requirements/*.in into the lock files
	@scripts/lock.sh

clean:  ## remove the virtual environment, models and local data
	rm -rf .venv models var results bot/web/node_modules build
