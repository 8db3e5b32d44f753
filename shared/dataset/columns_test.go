package dataset

import (
	"slices"
	"strings"
	"testing"
)

func TestFoldName(t *testing.T) {
	for in, want := range map[string]string{
		"ProductID": "productid", "product_id": "productid", "PRODUCT-ID": "productid",
		" Sales ": "sales", "Prix Unitaire": "prixunitaire", "Größe_2": "größe2",
	} {
		if got := foldName(in); got != want {
			t.Errorf("foldName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMatchHeader(t *testing.T) {
	full := []string{"date", "product_id", "sales", "category", "region", "price", "discount", "rating"}
	tests := []struct {
		name     string
		header   string
		existing []string
		columns  string // dataset columns after the upload
		targets  string // dataset column each upload column lands in
		problems []string
	}{
		{name: "exact", header: "date,product_id,sales", existing: full,
			columns: strings.Join(full, ","), targets: "date,product_id,sales"},
		{name: "new dataset keeps header order", header: "sales,date,product_id,foo", existing: nil,
			columns: "sales,date,product_id,foo", targets: "sales,date,product_id,foo"},
		{name: "required by folded name", header: "Date,ProductID,SALES", existing: full,
			columns: strings.Join(full, ","), targets: "date,product_id,sales"},
		{name: "required folded in a new dataset", header: "PRODUCT ID,Date,Sales,Region", existing: nil,
			columns: "product_id,date,sales,region", targets: "product_id,date,sales,region"},
		{name: "existing column by folded name", header: "date,product_id,sales,Promo_Code", existing: []string{"date", "product_id", "sales", "promo code"},
			columns: "date,product_id,sales,promo code", targets: "date,product_id,sales,promo code"},
		{name: "known optional by folded name", header: "date,product_id,sales,Category,PRICE,Discount", existing: []string{"date", "product_id", "sales"},
			columns: "date,product_id,sales,category,price,discount", targets: "date,product_id,sales,category,price,discount"},
		{name: "existing column wins over canonical name", header: "date,product_id,sales,Rating", existing: []string{"date", "product_id", "sales", "RATING"},
			columns: "date,product_id,sales,RATING", targets: "date,product_id,sales,RATING"},
		{name: "new columns appended in order of appearance", header: "zeta,date,Rating,product_id,alpha,sales", existing: []string{"date", "product_id", "sales", "category"},
			columns: "date,product_id,sales,category,zeta,rating,alpha", targets: "zeta,date,rating,product_id,alpha,sales"},
		{name: "header names trimmed", header: " date , product_id,sales ", existing: nil,
			columns: "date,product_id,sales", targets: "date,product_id,sales"},
		{name: "exact required beats folded duplicate, which keeps its name", header: "date,product_id,sales,Sales", existing: nil,
			columns: "date,product_id,sales,Sales", targets: "date,product_id,sales,Sales"},
		{name: "prototype dataset: both spellings", header: "date,product_id,sales,ProductID", existing: nil,
			columns: "date,product_id,sales,ProductID", targets: "date,product_id,sales,ProductID"},
		{name: "required before an exact match of the dataset's other spelling", header: "ProductID,Date,Sales,Category",
			existing: []string{"date", "product_id", "sales", "category", "ProductID"},
			columns:  "date,product_id,sales,category,ProductID", targets: "product_id,date,sales,category"},
		{name: "both spellings into a dataset with both", header: "ProductID,date,product_id,sales",
			existing: []string{"date", "product_id", "sales", "ProductID"},
			columns:  "date,product_id,sales,ProductID", targets: "ProductID,date,product_id,sales"},
		{name: "both spellings into a dataset with one", header: "Date,ProductID,product_id,Sales",
			existing: []string{"date", "product_id", "sales"},
			columns:  "date,product_id,sales,ProductID", targets: "date,ProductID,product_id,sales"},
		{name: "a folded match already taken goes to the free one", header: "date,product_id,sales,Product ID",
			existing: []string{"date", "product_id", "sales", "ProductID"},
			columns:  "date,product_id,sales,ProductID", targets: "date,product_id,sales,ProductID"},
		{name: "required ambiguous", header: "date,product_id,Sales,SALES", existing: full,
			problems: []string{`column "sales": ambiguous: columns "Sales", "SALES" all match required column "sales"; rename one of them to "sales"`}},
		{name: "required missing", header: "date,sku,units", existing: full,
			problems: []string{`column "product_id": required column missing`, `column "sales": required column missing`}},
		{name: "duplicate name", header: "date,product_id,sales,x,x", existing: nil,
			problems: []string{`column "x": duplicate column name`}},
		{name: "empty name", header: "date,product_id,sales,", existing: nil,
			problems: []string{"column 4 has no name"}},
		{name: "two columns fold to one existing: the first takes it", header: "date,product_id,sales,Promo Code,promo-code", existing: []string{"date", "product_id", "sales", "promo_code"},
			columns: "date,product_id,sales,promo_code,promo-code", targets: "date,product_id,sales,promo_code,promo-code"},
		{name: "two columns fold to one known optional", header: "date,product_id,sales,Category,CATEGORY", existing: []string{"date", "product_id", "sales"},
			columns: "date,product_id,sales,category,CATEGORY", targets: "date,product_id,sales,category,CATEGORY"},
		{name: "NUL in a name", header: "date,product_id,sales,a\x00b", existing: nil,
			problems: []string{`column "a\x00b": column name holds a NUL byte`}},
		{name: "folds to two existing columns", header: "date,product_id,sales,PromoCode", existing: []string{"date", "product_id", "sales", "promo_code", "promo code"},
			problems: []string{`column "PromoCode": ambiguous: matches dataset columns ["promo_code" "promo code"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hm, problems := matchHeader(strings.Split(tt.header, ","), tt.existing, 1)
			var got []string
			for _, p := range problems {
				if p.Line != 1 {
					t.Errorf("problem on line %d, want 1", p.Line)
				}
				got = append(got, p.String()[len("line 1: "):])
			}
			if !slices.Equal(got, tt.problems) {
				t.Fatalf("problems = %q, want %q", got, tt.problems)
			}
			if tt.problems != nil {
				return
			}
			if c := strings.Join(hm.columns, ","); c != tt.columns {
				t.Errorf("columns = %q, want %q", c, tt.columns)
			}
			var targets []string
			for _, k := range hm.target {
				targets = append(targets, hm.columns[k])
			}
			if got := strings.Join(targets, ","); got != tt.targets {
				t.Errorf("targets = %q, want %q", got, tt.targets)
			}
			if want := hm.columns[len(tt.existing):]; !slices.Equal(hm.newColumns, want) && len(want) > 0 {
				t.Errorf("new columns = %q, want %q", hm.newColumns, want)
			}
		})
	}
}

func TestCheckDatasetHeader(t *testing.T) {
	for header, ok := range map[string]bool{
		"date,product_id,sales":           true,
		"sales,x,product_id,date":         true,
		"date,product_id":                 false,
		"Date,product_id,sales":           false,
		"date,product_id,sales,x,x":       false,
		"date,product_id,sales,":          false,
		"date,product_id,sales,category":  true,
		"date,date,product_id,sales,rate": false,
	} {
		if err := checkDatasetHeader(strings.Split(header, ",")); (err == nil) != ok {
			t.Errorf("checkDatasetHeader(%q) = %v, want ok=%v", header, err, ok)
		}
	}
}
