.PHONY: setup run test lint bench compose-up drill

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

compose-up:
	./scripts/compose.sh up --build -d

drill:
	python3 compose/drill.py
