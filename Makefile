# stockcast — the two set-up commands are `make run` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

FUNCTIONS := merge refit finetune publish
# Function binaries are built for this machine's architecture, so that they run here under the
# Lambda Runtime Interface Emulator; `sam build` (the build-<Function> targets) builds arm64.
LAMBDA_ARCH ?= $(shell go env GOARCH)
GO_LAMBDA := CGO_ENABLED=0 GOOS=linux go build -trimpath -tags lambda.norpc -ldflags '-s -w'

.PHONY: help
help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

.PHONY: build
build: $(FUNCTIONS:%=build/%/bootstrap) build/aws-lambda-rie bin/stockcast ## build every function (build/<fn>/bootstrap), the emulator and bin/stockcast

build/%/bootstrap: FORCE
	GOARCH=$(LAMBDA_ARCH) $(GO_LAMBDA) -o $@ ./functions/$*

build/aws-lambda-rie: FORCE
	CGO_ENABLED=0 go build -o $@ github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie

bin/stockcast: FORCE
	go build -o $@ ./infra/local

.PHONY: run
run: bin/stockcast ## start the embedded local stack on 127.0.0.1:4566 with sample data
	bin/stockcast run

.PHONY: test
test: lint ## everything CI runs: formatting, vet, cfn-lint, unit, integration and emulator tests
	go test -count=1 -timeout 30m ./...

.PHONY: lint
lint: ## gofmt, go vet and cfn-lint
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	go vet ./...
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is required (pip install cfn-lint)"; exit 1; }
	cfn-lint template.yaml

.PHONY: bench
bench: ## run the benchmarks and print them as a table (raw output in bench.txt)
	go test -run '^$$' -bench . -benchmem -count 1 -timeout 60m ./shared/... | tee bench.txt
	go tool benchstat bench.txt

.PHONY: clean
clean: ## remove build output and the local stack's state
	rm -rf build bin .stockcast .aws-sam bench.txt

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR set.
build-MergeFunction build-RefitFunction build-PublishFunction: build-%Function:
	GOARCH=arm64 $(GO_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo $* | tr A-Z a-z)

.PHONY: FORCE
FORCE:
