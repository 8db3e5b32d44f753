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
	required   [3]int   // the upload column of date, product_id and sales
	// fallback lists, for each required column, the other upload columns spelled like it
	// (ProductID beside product_id), in header order: a row whose required value is empty
	// takes the first of theirs that is not.
	fallback [3][]int
}

// matchHeader matches an upload's header (at line) to the existing dataset columns in the
// contract's order — required columns first, then exact names, then names ignoring case and
// non-alphanumerics — and lists every problem. It never puts two upload columns into one
// dataset column: a column whose match another one already took keeps its own name.
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
		case strings.ContainsRune(names[i], 0):
			problem(names[i], "column name holds a NUL byte")
		case seen[names[i]]:
			problem(names[i], "duplicate column name")
		}
		seen[names[i]] = true
	}
	if len(problems) > 0 {
		return headerMap{}, problems
	}

	target := make([]string, len(names)) // dataset column name per upload column; "" while unmatched
	taken := map[string]bool{}
	claim := func(i int, col string) { target[i], taken[col] = col, true }
	unmatched := func(yield func(int) bool) {
		for i := range names {
			if target[i] == "" && !yield(i) {
				return
			}
		}
	}
	var hm headerMap

	// 1. Each required column: by exact name, else the one column that folds to it.
	for r, req := range RequiredColumns() {
		if i := slices.Index(names, req); i >= 0 {
			claim(i, req)
			hm.required[r] = i
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
			hm.required[r] = candidates[0]
		default:
			quoted := make([]string, len(candidates))
			for k, i := range candidates {
				quoted[k] = fmt.Sprintf("%q", names[i])
			}
			problem(req, fmt.Sprintf("ambiguous: columns %s all match required column %q; rename one of them to %q", strings.Join(quoted, ", "), req, req))
		}
	}
	if len(problems) > 0 {
		return headerMap{}, problems
	}
	// 2. Other columns by exact name to a dataset (or known optional) column.
	for i := range unmatched {
		if !taken[names[i]] && (slices.Contains(existing, names[i]) || slices.Contains(canonicalColumns, names[i])) {
			claim(i, names[i])
		}
	}
	// 3. The rest ignoring case and non-alphanumerics: to a dataset column, else to a known
	// optional column's canonical name; only to one that no other column took.
	for _, pool := range [][]string{existing, canonicalColumns} {
		for i := range unmatched {
			var matches []string
			for _, col := range pool {
				if !taken[col] && foldName(col) == foldName(names[i]) {
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

	// 4. The rest keep their own names: new columns, appended in header order.
	for i := range unmatched {
		target[i] = names[i]
	}
	for r, req := range RequiredColumns() {
		for i := range names {
			if i != hm.required[r] && foldName(names[i]) == foldName(req) {
				hm.fallback[r] = append(hm.fallback[r], i)
			}
		}
	}
	hm.columns, hm.target = slices.Clone(existing), make([]int, len(names))
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
