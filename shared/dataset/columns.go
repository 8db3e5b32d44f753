package dataset

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Canonical column names.
const (
	ColDate      = "date"
	ColProductID = "product_id"
	ColSales     = "sales"
	ColCategory  = "category"
	ColRegion    = "region"
	ColPrice     = "price"
	ColDiscount  = "discount"
	ColRating    = "rating"
)

// RequiredColumns returns the columns every dataset and upload has.
func RequiredColumns() []string { return []string{ColDate, ColProductID, ColSales} }

// OptionalColumns returns the known optional columns.
func OptionalColumns() []string {
	return []string{ColCategory, ColRegion, ColPrice, ColDiscount, ColRating}
}

// canonicalColumns are the required then the known optional columns.
var canonicalColumns = append(RequiredColumns(), OptionalColumns()...)

// foldName reduces a column name to its lower-case letters and digits, the
// form in which names are compared when exact matching fails.
func foldName(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// headerMap is the result of matching an upload's header to the dataset.
type headerMap struct {
	columns    []string // dataset columns after the upload
	newColumns []string // the columns the upload adds
	target     []int    // for each upload column, its index in columns
}

// matchHeader matches an upload's header (at line) to the existing dataset
// columns following the contract's order, and lists every problem.
func matchHeader(header, existing []string, line int) (headerMap, []Problem) {
	var problems []Problem
	problem := func(column, reason string) {
		problems = append(problems, Problem{Line: line, Column: column, Reason: reason})
	}
	names := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		names[i] = strings.TrimSpace(h)
		switch {
		case names[i] == "":
			problem("", fmt.Sprintf("column %d has no name", i+1))
		case seen[names[i]]:
			problem(names[i], "duplicate column name")
		}
		seen[names[i]] = true
	}
	if len(problems) > 0 {
		return headerMap{}, problems
	}

	target := make([]string, len(names)) // dataset column name per upload column
	claimedBy := map[string]int{}
	claim := func(i int, col string) {
		if j, ok := claimedBy[col]; ok {
			problem(names[i], fmt.Sprintf("columns %q and %q both match dataset column %q", names[j], names[i], col))
		}
		claimedBy[col] = i
		target[i] = col
	}
	unmatched := func(yield func(int) bool) {
		for i := range names {
			if target[i] == "" && !yield(i) {
				return
			}
		}
	}

	// 1. Exact names.
	for i, n := range names {
		if slices.Contains(existing, n) || slices.Contains(canonicalColumns, n) {
			claim(i, n)
		}
	}
	// 2. Required columns missing by exact name, from the one column that folds to them.
	for _, req := range RequiredColumns() {
		if _, ok := claimedBy[req]; ok {
			continue
		}
		var candidates []int
		for i := range unmatched {
			if foldName(names[i]) == foldName(req) {
				candidates = append(candidates, i)
			}
		}
		switch len(candidates) {
		case 0:
			problem(req, "required column missing")
		case 1:
			claim(candidates[0], req)
		default:
			quoted := make([]string, len(candidates))
			for k, i := range candidates {
				quoted[k] = fmt.Sprintf("%q", names[i])
				target[i] = names[i] // reported; keep it out of later steps
			}
			problem(req, fmt.Sprintf("ambiguous: columns %s all match required column %q", strings.Join(quoted, ", "), req))
		}
	}
	// 3. Existing dataset columns, then 4. canonical names, ignoring case and separators.
	for _, pool := range [][]string{existing, canonicalColumns} {
		for i := range unmatched {
			var matches []string
			for _, col := range pool {
				if foldName(col) == foldName(names[i]) {
					matches = append(matches, col)
				}
			}
			switch len(matches) {
			case 0:
			case 1:
				claim(i, matches[0])
			default:
				problem(names[i], fmt.Sprintf("ambiguous: matches dataset columns %q", matches))
				target[i] = names[i] // reported; keep it out of later steps
			}
		}
	}
	if len(problems) > 0 {
		return headerMap{}, problems
	}

	// 5. The rest are new columns; new columns are appended in header order.
	hm := headerMap{columns: slices.Clone(existing), target: make([]int, len(names))}
	for i := range unmatched {
		target[i] = names[i]
	}
	for i, col := range target {
		k := slices.Index(hm.columns, col)
		if k < 0 {
			k = len(hm.columns)
			hm.columns = append(hm.columns, col)
			hm.newColumns = append(hm.newColumns, col)
		}
		hm.target[i] = k
	}
	return hm, nil
}

// checkDatasetHeader validates the header of an existing dataset: named,
// unique columns including the required ones by their exact names.
func checkDatasetHeader(header []string) error {
	seen := map[string]bool{}
	for i, h := range header {
		if h == "" {
			return fmt.Errorf("column %d has no name", i+1)
		}
		if seen[h] {
			return fmt.Errorf("duplicate column %q", h)
		}
		seen[h] = true
	}
	for _, req := range RequiredColumns() {
		if !seen[req] {
			return fmt.Errorf("required column %q missing", req)
		}
	}
	return nil
}
