.PHONY: setup run test lint bench

setup:
	./scripts/setup.sh

run:
	./scripts/run.sh

test:
	./scripts/test.sh

lint:
	python3 -m ruff check .

bench:
	python3 bench/server_cpu.py
