// Package statemachine holds the training state machine's definition, in the Amazon States
// Language: the same file that template.yaml deploys (DefinitionUri) and that the local stack
// runs.
package statemachine

import _ "embed"

// Training is infra/statemachine/training.asl.json, with ${RefitFunctionArn},
// ${FineTuneFunctionArn} and ${PublishFunctionArn} to substitute.
//
//go:embed training.asl.json
var Training []byte
