package dataset

import (
	"strings"
	"testing"
)

// TestPrototypeFiles merges replicas of the prototype's files: its large_dataset.csv, which grew
// a ProductID column beside product_id (rows with either or both filled, some differently), and
// then uploads with either spelling, both, and both filled differently. Nothing is refused and
// every value lands where the contract puts it.
func TestPrototypeFiles(t *testing.T) {
	const prototype = "date,product_id,sales,category,ProductID\n" +
		"2024-01-01,P1,10,Home,\n" + // the original rows
		"2024-01-01,,11,Toys,P2\n" + // rows of the ProductID upload, appended by pandas
		"2024-01-02,P1,12,Home,P1\n" + // both filled
		"2024-01-02,P3,13,Toys,P3-old\n" // both filled differently: product_id is the key
	up := parse(t, prototype, nil)
	dataset, st := mergeBoth(t, nil, up)
	want := "date,product_id,sales,category,ProductID\n" +
		"2024-01-01,P1,10,Home,\n" +
		"2024-01-01,P2,11,Toys,P2\n" +
		"2024-01-02,P1,12,Home,P1\n" +
		"2024-01-02,P3,13,Toys,P3-old\n"
	if dataset != want || st.Inserted != 4 {
		t.Fatalf("prototype dataset merged as\n%s(stats %+v), want\n%s", dataset, st, want)
	}
	columns := up.Columns

	for _, tt := range []struct {
		name, upload string
		rows         []string // rows of the merged dataset
	}{
		{"ProductID spelling", "ProductID,Date,Sales,Category\nP4,2024-01-03,5,Home\n",
			[]string{"2024-01-03,P4,5,Home,\n"}},
		{"product_id spelling", "date,product_id,sales\n2024-01-03,P4,6\n",
			[]string{"2024-01-03,P4,6,,\n"}},
		{"both spellings", "Date,ProductID,product_id,Sales\n2024-01-03,P4,P4,7\n2024-01-03,,P5,8\n2024-01-03,P6,,9\n",
			[]string{"2024-01-03,P4,7,,P4\n", "2024-01-03,P5,8,,\n", "2024-01-03,P6,9,,P6\n"}},
		{"both filled differently", "product_id,ProductID,date,sales\nP4,P4-new,2024-01-03,10\n",
			[]string{"2024-01-03,P4,10,,P4-new\n"}},
		{"another spelling beside both", "date,product_id,sales,Product ID,ProductID\n2024-01-03,P4,11,x,y\n",
			[]string{"2024-01-03,P4,11,,y,x\n"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			up := parse(t, tt.upload, columns)
			out, _ := mergeBoth(t, []byte(dataset), up)
			for _, row := range tt.rows {
				if !strings.Contains(out, "\n"+row) {
					t.Errorf("merged dataset lacks %q:\n%s", row, out)
				}
			}
			if !strings.HasPrefix(out, want[:strings.IndexByte(want, '\n')]) {
				t.Errorf("dataset columns changed: %s", out[:strings.IndexByte(out, '\n')])
			}
			checkCanonical(t, out)
		})
	}
}
