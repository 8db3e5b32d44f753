// Package layering states the rule the packages under shared/ keep, and its test enforces it:
// dependencies point one way, from functions and infra through the handlers to the domain
// packages and the adapters. A domain package — every package under shared/ that is not an
// adapter (store, platform, fakes3, stepfunctions, pipeline) nor a handler (handlers/...) —
// imports, directly or through others, no AWS package, no adapter, no handler, nothing of
// functions/ or infra/. A new domain package is checked without being listed.
package layering

// Module is the module path of the repository.
const Module = "github.com/stockcast/stockcast"

// Adapters are the packages under shared/ that may speak to AWS: everything below them counts
// as one of them.
var Adapters = []string{
	Module + "/shared/store",
	Module + "/shared/platform",
	Module + "/shared/fakes3",
	Module + "/shared/stepfunctions",
	Module + "/shared/pipeline",
	Module + "/shared/handlers",
	Module + "/shared/layering",
}

// Forbidden reports why a domain package may not depend on dep, or "" when it may.
func Forbidden(dep string) string {
	switch {
	case hasPrefix(dep, "github.com/aws"):
		return "an AWS package"
	case hasPrefix(dep, Module+"/functions"), hasPrefix(dep, Module+"/infra"):
		return "a function or infrastructure package"
	case IsAdapter(dep):
		return "an adapter or handler"
	}
	return ""
}

// IsAdapter reports whether pkg is an adapter, a handler or below one.
func IsAdapter(pkg string) bool {
	for _, a := range Adapters {
		if hasPrefix(pkg, a) {
			return true
		}
	}
	return false
}

// hasPrefix reports whether pkg is path or a package below it.
func hasPrefix(pkg, path string) bool {
	return pkg == path || len(pkg) > len(path) && pkg[:len(path)] == path && pkg[len(path)] == '/'
}
