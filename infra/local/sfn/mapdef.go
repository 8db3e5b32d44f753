package sfn

import "fmt"

// mapConfig is what a Map state iterates over and how: where its items come
// from, how each becomes an iteration's input, the states that process it,
// and the bounds on concurrency and failures.
type mapConfig struct {
	// distributed is ProcessorConfig.Mode DISTRIBUTED: each item runs as a
	// child execution with a history of its own, and failures are tolerated
	// up to the thresholds.
	distributed bool
	// itemsPath selects the items' array in the effective input; nil means
	// the effective input itself. Unused with an ItemReader.
	itemsPath *jsonPath
	reader    *itemReader
	// itemSelector builds an iteration's input ($ the Map's effective input,
	// $$.Map.Item.Index and $$.Map.Item.Value the item); nil passes the item.
	itemSelector template
	processor    *branch
	// maxConcurrency is MaxConcurrency; zero means no bound of its own.
	maxConcurrency int
	// toleratedCount and toleratedPercent are the failure thresholds, each
	// applying only when set.
	toleratedCount      int
	hasToleratedCount   bool
	toleratedPercent    float64
	hasToleratedPercent bool
	label               string
}

// itemReader is a Distributed Map's ItemReader: a JSON array read from S3
// with arn:aws:states:::s3:getObject.
type itemReader struct {
	// parameters build {Bucket, Key, VersionId} from the Map's effective
	// input.
	parameters template
	// maxItems keeps the first items only; zero means all.
	maxItems int
}

// getObjectResource is the ItemReader resource reading one S3 object.
const getObjectResource = "arn:aws:states:::s3:getObject"

// Processing modes of a Map state's ItemProcessor.
const (
	modeInline      = "INLINE"
	modeDistributed = "DISTRIBUTED"
)

// readMap reads a Map state's fields. The legacy names are accepted for
// inline Maps: Iterator for ItemProcessor, Parameters for ItemSelector.
func (r *reader) readMap(s *state, obj map[string]any) {
	m := &mapConfig{}
	s.mapping = m
	if _, has := obj["Parameters"]; has {
		if _, both := obj["ItemSelector"]; both {
			r.errorf("Parameters", "cannot be used together with ItemSelector (Parameters is its former name)")
		}
		m.itemSelector, s.parameters = s.parameters, nil
	} else {
		m.itemSelector = r.template(obj, "ItemSelector")
	}
	m.itemsPath = r.referencePath(obj, "", "ItemsPath", true)

	processorField := "ItemProcessor"
	if _, has := obj["Iterator"]; has {
		if _, both := obj["ItemProcessor"]; both {
			r.errorf("Iterator", "cannot be used together with ItemProcessor (Iterator is its former name)")
		}
		processorField = "Iterator"
	}
	processor, ok := obj[processorField].(map[string]any)
	if !ok {
		r.errorf("ItemProcessor", "a Map state needs an ItemProcessor object with StartAt and States")
		return
	}
	r.checkFields(processor, processorField, "ProcessorConfig", "StartAt", "States", "Comment")
	mode := modeInline
	if config, has := processor["ProcessorConfig"]; has {
		mode = r.processorConfig(config, processorField+".ProcessorConfig")
	}
	if mode == modeDistributed && processorField == "Iterator" {
		r.errorf("Iterator", "a DISTRIBUTED Map needs ItemProcessor")
	}
	m.distributed = mode == modeDistributed
	m.processor = r.branch(processor, processorField)

	if n, ok := r.integer(obj, "", "MaxConcurrency", 0); ok {
		m.maxConcurrency = n
	}
	if _, has := obj["ItemReader"]; has {
		if m.itemsPath != nil {
			r.errorf("ItemReader", "cannot be used together with ItemsPath")
		}
		m.reader = r.readItemReader(obj["ItemReader"])
	}
	m.toleratedCount, m.hasToleratedCount = r.integer(obj, "", "ToleratedFailureCount", 0)
	if f, ok := r.number(obj, "", "ToleratedFailurePercentage"); ok {
		if f < 0 || f > 100 {
			r.errorf("ToleratedFailurePercentage", "must be a number from 0 to 100")
		}
		m.toleratedPercent, m.hasToleratedPercent = f, true
	}
	m.label = r.optionalString(obj, "", "Label")
	if !m.distributed {
		for _, field := range []string{"ItemReader", "ToleratedFailureCount", "ToleratedFailurePercentage", "Label"} {
			if _, has := obj[field]; has {
				r.errorf(field, "is only allowed in a Map whose ItemProcessor.ProcessorConfig.Mode is %s", modeDistributed)
			}
		}
	}
}

// processorConfig reads ProcessorConfig and returns the mode.
func (r *reader) processorConfig(v any, at string) string {
	config, ok := v.(map[string]any)
	if !ok {
		r.errorf(at, "must be an object")
		return modeInline
	}
	r.checkFields(config, at, "Mode", "ExecutionType")
	mode := r.optionalString(config, at, "Mode")
	executionType := r.optionalString(config, at, "ExecutionType")
	switch mode {
	case "", modeInline:
		if executionType != "" {
			r.errorf(joinAt(at, "ExecutionType"), "is only allowed with Mode %s", modeDistributed)
		}
		return modeInline
	case modeDistributed:
		switch executionType {
		case "STANDARD":
		case "":
			r.errorf(joinAt(at, "ExecutionType"), "is required with Mode %s", modeDistributed)
		default:
			r.errorf(joinAt(at, "ExecutionType"), "%q is not supported: the local Step Functions runs STANDARD child executions", executionType)
		}
		return modeDistributed
	default:
		r.errorf(joinAt(at, "Mode"), "must be %s or %s, not %q", modeInline, modeDistributed, mode)
		return modeInline
	}
}

// readItemReader reads an ItemReader: Resource arn:aws:states:::s3:getObject,
// ReaderConfig {InputType: JSON, MaxItems} and Parameters {Bucket, Key,
// VersionId}, each parameter static or a path (Bucket.$, …).
func (r *reader) readItemReader(v any) *itemReader {
	const at = "ItemReader"
	obj, ok := v.(map[string]any)
	if !ok {
		r.errorf(at, "must be an object")
		return nil
	}
	r.checkFields(obj, at, "Resource", "ReaderConfig", "Parameters")
	ir := &itemReader{}
	if res := r.requiredString(obj, at, "Resource"); res != "" && res != getObjectResource {
		r.errorf(joinAt(at, "Resource"), "%q is not supported: the local Step Functions reads items with %s", res, getObjectResource)
	}
	config, ok := obj["ReaderConfig"].(map[string]any)
	if !ok {
		r.errorf(joinAt(at, "ReaderConfig"), "is required with %s and must be an object with InputType", getObjectResource)
	} else {
		cat := joinAt(at, "ReaderConfig")
		r.checkFields(config, cat, "InputType", "MaxItems")
		if t := r.requiredString(config, cat, "InputType"); t != "" && t != "JSON" {
			r.errorf(joinAt(cat, "InputType"), "%q is not supported: the local Step Functions reads JSON arrays", t)
		}
		ir.maxItems, _ = r.integer(config, cat, "MaxItems", 1)
	}
	params, ok := obj["Parameters"].(map[string]any)
	if !ok {
		r.errorf(joinAt(at, "Parameters"), "must be an object with Bucket and Key")
		return ir
	}
	pat := joinAt(at, "Parameters")
	r.checkFields(params, pat, "Bucket", "Bucket.$", "Key", "Key.$", "VersionId", "VersionId.$")
	for _, field := range []string{"Bucket", "Key"} {
		_, static := params[field]
		_, dynamic := params[field+".$"]
		if !static && !dynamic {
			r.errorf(joinAt(pat, field), "is required")
		}
	}
	t, err := compileTemplate(params)
	if err != nil {
		r.errorf(pat, "%v", err)
		return ir
	}
	ir.parameters = t
	return ir
}

// exceeded reports whether failed failures of total items are beyond the
// tolerated thresholds; with neither set, one failure is.
func (m *mapConfig) exceeded(failed, total int) bool {
	switch {
	case !m.hasToleratedCount && !m.hasToleratedPercent:
		return failed > 0
	case m.hasToleratedCount && failed > m.toleratedCount:
		return true
	case m.hasToleratedPercent && float64(failed)*100 > m.toleratedPercent*float64(total):
		return true
	}
	return false
}

// thresholds describes the tolerated failures, for error causes.
func (m *mapConfig) thresholds() string {
	switch {
	case m.hasToleratedCount && m.hasToleratedPercent:
		return fmt.Sprintf("ToleratedFailureCount %d, ToleratedFailurePercentage %g", m.toleratedCount, m.toleratedPercent)
	case m.hasToleratedCount:
		return fmt.Sprintf("ToleratedFailureCount %d", m.toleratedCount)
	case m.hasToleratedPercent:
		return fmt.Sprintf("ToleratedFailurePercentage %g", m.toleratedPercent)
	}
	return "no failure tolerated"
}
