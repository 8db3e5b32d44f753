package sfn

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// placeholder matches ${Name} as SAM's DefinitionSubstitutions use it.
var placeholder = regexp.MustCompile(`\$\{([A-Za-z0-9_.:-]+)\}`)

// Substitute replaces every ${Name} in a definition with values[Name], as
// SAM's DefinitionSubstitutions (and CloudFormation's) do: as plain text, so a
// placeholder inside a JSON string becomes part of that string and one
// outside strings can stand for a number. A placeholder without a value is
// an error naming every such placeholder.
func Substitute(definition []byte, values map[string]string) ([]byte, error) {
	var missing []string
	out := placeholder.ReplaceAllFunc(definition, func(m []byte) []byte {
		name := string(placeholder.FindSubmatch(m)[1])
		v, ok := values[name]
		if !ok {
			if !slices.Contains(missing, name) {
				missing = append(missing, name)
			}
			return m
		}
		return []byte(v)
	})
	if len(missing) > 0 {
		return nil, fmt.Errorf("substitute definition: no value for %s", strings.Join(missing, ", "))
	}
	return out, nil
}
