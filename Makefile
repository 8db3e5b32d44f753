# stockcast — the two set-up commands are `make run` and `make test`.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

FUNCTIONS := merge refit finetune publish forecast
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

# The first build downloads and compiles every Go module (a few minutes): go build -v names each
# package it compiles, counted here as progress; anything else it prints (errors) is shown.
bin/stockcast: FORCE
	@echo "building $@ (the first build downloads and compiles the Go modules: a few minutes)"
	@go build -v -o $@ ./infra/local 2>&1 | awk '/^[^ :]+$$/ { if (++n % 25 == 0) printf "  %d packages compiled...\n", n; fflush(); next } { print; fflush() } END { if (n) printf "  %d packages compiled\n", n }'
	@echo "built $@"

# The page the forecast API serves at GET / (shared/web): built with esbuild from the npm packages
# pinned in shared/web/package-lock.json into shared/web/dist/index.html, which is committed so
# that `go build` and `go vet` work from a clean checkout; `make lint` checks it is up to date.
.PHONY: web
web: ## rebuild the page (shared/web/dist/index.html) from shared/web/src
	cd shared/web && npm ci --no-audit --no-fund && node build.mjs

.PHONY: web-check
web-check: web ## check that the committed page is what its sources build
	@git diff --exit-code --stat -- shared/web/dist || { echo "shared/web/dist is stale: run make web and commit it"; exit 1; }

.PHONY: run
run: bin/stockcast ## start the embedded local stack on 127.0.0.1:4566 with sample data
	bin/stockcast run

.PHONY: test
test: lint unit e2e ## everything CI runs: formatting, vet, cfn-lint, unit/integration/emulator tests, end to end

.PHONY: unit
unit: ## unit, integration and emulator tests (go test ./...), the LSTM also on its portable path (purego, as on arm64), the concurrent packages under -race
	go test -count=1 -timeout 30m ./...
	go test -count=1 -tags purego ./shared/lstm/...
	go test -count=1 -race -timeout 30m ./shared/store ./shared/fakes3 ./shared/pipeline ./shared/handlers/... ./infra/local/sfn ./infra/local/stack

.PHONY: e2e
e2e: ## the whole system under the Lambda Runtime Interface Emulator, driven with awscli, the SDK, HTTP and the page in headless Chromium
	@command -v aws >/dev/null || { echo "awscli is required for the end-to-end test"; exit 1; }
	@test -x /usr/bin/chromium || { echo "Debian's chromium is required for the browser test (apt-get install chromium)"; exit 1; }
	cd infra/e2e/browser && npm ci --no-audit --no-fund
	go test -tags e2e -count=1 -timeout 30m -v ./infra/e2e

.PHONY: lint
lint: web-check ## gofmt, go vet, staticcheck, a tidy go.mod, the layering rule, cfn-lint, and the committed page built from its sources
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	  if [ -n "$$unformatted" ]; then echo "gofmt needed: $$unformatted"; exit 1; fi
	go vet ./...
	go vet -tags e2e ./infra/e2e
	go vet -tags purego ./shared/lstm/...
	go tool staticcheck ./...
	go tool staticcheck -tags e2e ./infra/e2e
	@go mod tidy -diff || { echo "go.mod or go.sum is not tidy: run go mod tidy"; exit 1; }
	go test -count=1 ./shared/layering
	@command -v cfn-lint >/dev/null || { echo "cfn-lint is required (pip install cfn-lint)"; exit 1; }
	cfn-lint template.yaml

.PHONY: bench
bench: ## run every benchmark and print them as tables with their baselines (raw output in bench.txt)
	go test -run '^$$' -bench . -benchmem -count 1 -timeout 90m ./shared/... ./infra/local/stack ./infra/simulate | tee bench.txt
	go run ./infra/benchreport bench.txt

# The scale benchmarks (infra/simulate) at the 100,000-product × 3-year dataset the README's
# "Scale" figures come from; `make bench` runs them at 2,000 products. They need about 11 GB of
# disk under TMPDIR (the dataset sharded and as one file, each with the version a merge adds).
SCALE_PRODUCTS ?= 100000

.PHONY: scale
scale: ## the scale benchmarks at 100,000 products × 3 years (merge, refit through the Map, serving; about 10 minutes), raw output in scale.txt
	STOCKCAST_SCALE_PRODUCTS=$(SCALE_PRODUCTS) go test -run '^$$' -bench . -benchtime 1x -count 1 -timeout 120m ./infra/simulate | tee scale.txt
	go run ./infra/benchreport scale.txt

# ---- Accuracy on real data (not in CI; see README "Accuracy") ------------------------------------
ACCURACY_DATA ?= ../shared/data
ACCURACY_SAMPLE ?= 20
ACCURACY_CORES ?= 2

.PHONY: accuracy
accuracy: bin/stockcast ## backtest every data set of ../shared/data (the LSTM a candidate of daily ones, as served) and, with R (forecast, prophet), R's ets/auto.arima/prophet on the same splits
	@ls $(ACCURACY_DATA)/*.csv >/dev/null || { echo "no data sets in $(ACCURACY_DATA)"; exit 1; }
	@mkdir -p build/accuracy
	@if Rscript -e 'library(forecast); library(prophet)' >/dev/null 2>&1; then r=1; else r=0; \
	  echo "R with the forecast and prophet packages is not installed: stockcast's models only"; fi; \
	for f in $(ACCURACY_DATA)/*.csv; do \
	  dir=build/accuracy/$$(basename $$f .csv); rm -rf $$dir; \
	  bin/stockcast backtest --data $$f --sample $(ACCURACY_SAMPLE) --lstm --export $$dir --json $$dir.go.json > $$dir.go.txt; \
	  if [ $$r = 1 ]; then ACCURACY_CORES=$(ACCURACY_CORES) Rscript infra/accuracy/r_models.R $$dir 2>/dev/null; fi; \
	  bin/stockcast backtest --score $$dir --json $$dir.json; \
	  sed -n '/^selections/,$$p' $$dir.go.txt; echo; \
	done

# ---- LocalStack (machines with Docker; see README "LocalStack") --------------------------------
LOCALSTACK_ENDPOINT ?= http://localhost:4566
AWS_LOCAL := AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 aws --endpoint-url $(LOCALSTACK_ENDPOINT)
LOCAL_BUCKET = $$($(AWS_LOCAL) cloudformation describe-stacks --stack-name stockcast-local --query "Stacks[0].Outputs[?OutputKey=='DataBucketName'].OutputValue" --output text)
LOCAL_API = $$($(AWS_LOCAL) cloudformation describe-stacks --stack-name stockcast-local --query "Stacks[0].Outputs[?OutputKey=='ApiUrl'].OutputValue" --output text)

.PHONY: localstack-up localstack-down deploy-local upload forecast
localstack-up: ## start LocalStack (Docker) with the init script of infra/localstack
	docker compose -f infra/localstack/docker-compose.yml up -d --wait

localstack-down: ## stop LocalStack
	docker compose -f infra/localstack/docker-compose.yml down

deploy-local: ## sam build + deploy to LocalStack (samconfig.toml [local])
	sam build
	AWS_ENDPOINT_URL=$(LOCALSTACK_ENDPOINT) AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
	  sam deploy --config-env local --parameter-overrides RequireApiKey=false LogRetentionDays=1

upload: ## upload FILE=path.csv to the LocalStack deployment's uploads/
	@test -n "$(FILE)" || { echo "usage: make upload FILE=testdata/new_data.csv"; exit 2; }
	$(AWS_LOCAL) s3 cp "$(FILE)" "s3://$(LOCAL_BUCKET)/uploads/"

forecast: ## forecast PRODUCT=P0001 [DAYS=7] from the LocalStack deployment's API
	@test -n "$(PRODUCT)" || { echo "usage: make forecast PRODUCT=P0001"; exit 2; }
	curl -fsS "$(LOCAL_API)forecast?product_id=$(PRODUCT)&days=$(or $(DAYS),7)"; echo

.PHONY: clean
clean: ## remove build output, the README examples' scratch/ folder and the local stack's state
	rm -rf build bin scratch .stockcast .aws-sam bench.txt scale.txt

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR set.
build-MergeFunction build-RefitFunction build-PublishFunction build-ForecastFunction: build-%Function:
	GOARCH=arm64 $(GO_LAMBDA) -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(shell echo $* | tr A-Z a-z)

.PHONY: FORCE
FORCE:
