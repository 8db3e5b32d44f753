// Package dataset is the CSV data contract of stockcast: the columns of the
// canonical dataset, validation of uploaded files, and the merge of an upload
// into the dataset.
//
// # Contract
//
// Required columns are date, product_id and sales; category, region, price,
// discount and rating are known optional columns; any other column is kept.
// The dataset's columns are the union of everything ever uploaded, new columns
// appended in order of first appearance.
//
// An upload's header is matched to the dataset's columns in this order:
//  1. a column whose name is exactly a dataset column or a canonical column
//     name lands in it;
//  2. a required column still missing is taken from the one remaining column
//     whose name matches it ignoring case and non-alphanumerics (ProductID,
//     Date, SALES); two candidates are an error;
//  3. another column that matches an existing dataset column that way lands in
//     it;
//  4. another column that matches a canonical name that way (Category,
//     PRICE) takes the canonical name;
//  5. the rest are new columns, appended in the order they appear.
//
// Two upload columns landing in the same dataset column, a column without a
// name and a duplicated name are errors. The first upload into a dataset that
// does not exist yet gives the dataset its columns in the upload's order,
// with required and known optional columns under their canonical names.
//
// A data row is invalid when its field count differs from the header's, its
// date is not an ISO date (YYYY-MM-DD, or an ISO date-time — T or space
// separator, optional seconds, fraction and zone — which is cut to its date),
// its product_id is empty, or its sales value is empty, not a number or not
// finite. A file with any invalid row is refused whole with every problem
// listed (1-based physical line, column, value, reason), up to a cap, with
// the total count. An empty file and a file with a header but no data rows
// are refused ("empty file", "no data rows"): an upload must add something.
//
// Reading follows RFC 4180 as encoding/csv does: a UTF-8 byte-order mark is
// dropped, CRLF line ends are accepted, quoted fields may hold commas, quotes
// and line breaks (line numbers count physical lines), and blank lines — lines
// whose fields are all empty or white space — are skipped. Surrounding white
// space is trimmed from date, product_id and sales; other values are kept as
// they are. Output is always LF-terminated, quoting only fields that hold a
// comma, quote, CR or LF.
//
// Written values: dates as YYYY-MM-DD; sales as given when they are a plain
// decimal (-12.50), otherwise in Go's shortest form (1e3 → 1000, +5 → 5).
//
// Rows are keyed by (date, product_id): the last row of a key wins, also
// inside one file, and output is sorted by the key in byte order.
//
// # Merging
//
// Open the existing dataset (nil for none), ParseUpload against its columns —
// which refuses a bad file before anything is written — then Merge streams the
// dataset through a merge-join with the upload. Merge's memory grows with the
// upload only. It needs the dataset sorted with unique keys, as this package
// writes it; otherwise it fails with an error wrapping ErrNotCanonical and
// MergeInMemory, which accepts any order, produces the canonical result.
package dataset
