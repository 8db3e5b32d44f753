#!/bin/bash
# Runs inside LocalStack when it is ready: creates what `sam deploy --config-env local` expects
# and SAM does not create itself (samconfig.toml [local]: s3_bucket and the fine-tune image's repository).
set -euo pipefail
awslocal s3 mb s3://stockcast-sam-artifacts 2>/dev/null || true
awslocal ecr create-repository --repository-name stockcast-finetune >/dev/null 2>&1 || true
echo "stockcast: LocalStack ready for sam deploy --config-env local"
