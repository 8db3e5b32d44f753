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
//  1. each required column: the upload column of exactly its name, else the one
//     column whose name matches it ignoring case and non-alphanumerics
//     (ProductID, Date, SALES) — before any other matching, also when the
//     dataset has a column spelled like the upload's; two such candidates and
//     no exact name are an error;
//  2. another column whose name is exactly a dataset column or a known optional
//     column's name lands in it;
//  3. another column that matches a dataset column ignoring case and
//     non-alphanumerics lands in it, else one that matches a known optional
//     name that way (Category, PRICE) takes the canonical name; matching two
//     free dataset columns that way is an error;
//  4. the rest keep their own names as new columns, appended in the order they
//     appear.
//
// A column never lands in a dataset column that another column of the same
// upload took: it is kept as its own column under its own name, so nothing is
// dropped (the prototype's files carry ProductID beside product_id). A row
// whose required value is empty takes it from the first other column of the
// upload spelled like that required column (ProductID for product_id) that has
// one; that column still keeps its own value. A column without a name, a name
// holding a NUL byte and a duplicated name are errors. The first upload into a
// dataset that does not exist yet gives the dataset its columns in the
// upload's order, with required and known optional columns under their
// canonical names. A quoted header ("date","product_id","sales") is a header
// like any other.
//
// A data row is invalid when its field count differs from the header's, its
// date is not an ISO date (YYYY-MM-DD, or an ISO date-time — T or space
// separator, optional seconds, fraction and zone — which is cut to its date),
// its product_id is empty, or its sales value is empty, not a number or not
// finite. Numbers are decimal: digits, optionally a sign, a fraction and an
// exponent (-3, +7, 85.50, .5, 1e2); digit separators (1_000), hex (0x10),
// inf and nan are not numbers. A file with any invalid row is refused whole with every problem
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
