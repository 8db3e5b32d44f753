package series

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/gocarina/gocsv"
	"github.com/stockcast/stockcast/shared/datagen"
	"github.com/stockcast/stockcast/shared/dataset"
)

// benchConfig is the 1,000,000-row dataset of the issue: 1,000 products × 1,000 days.
var benchConfig = datagen.Config{Products: 1000, Days: 1000, Seed: 1}

// benchDataset generates the benchmark dataset once per process.
var benchDataset = sync.OnceValues(func() ([]byte, error) {
	var buf bytes.Buffer
	err := datagen.Write(context.Background(), &buf, benchConfig)
	return buf.Bytes(), err
})

func dataset1M(b *testing.B) []byte {
	data, err := benchDataset()
	if err != nil {
		b.Fatal(err)
	}
	return data
}

// gocsvRow is a dataset row as gocsv decodes it.
type gocsvRow struct {
	Date      string  `csv:"date"`
	ProductID string  `csv:"product_id"`
	Sales     float64 `csv:"sales"`
	Category  string  `csv:"category"`
	Region    string  `csv:"region"`
	Price     float64 `csv:"price"`
	Discount  float64 `csv:"discount"`
	Rating    float64 `csv:"rating"`
}

// loadGocsv is the baseline loader: gocsv decodes each row into a struct,
// then the row is appended to the columns with the same dictionaries.
func loadGocsv(data []byte) (*Table, error) {
	t := &Table{productIdx: map[string]int32{}, categoryIdx: map[string]int32{}, regionIdx: map[string]int32{}}
	err := gocsv.UnmarshalToCallbackWithError(bytes.NewReader(data), func(r gocsvRow) error {
		d, err := dataset.ParseDay(r.Date)
		if err != nil {
			return err
		}
		t.day = append(t.day, d)
		t.product = append(t.product, intern(t.productIdx, &t.products, []byte(r.ProductID)))
		t.category = append(t.category, intern(t.categoryIdx, &t.categories, []byte(r.Category)))
		t.region = append(t.region, intern(t.regionIdx, &t.regions, []byte(r.Region)))
		t.sales = append(t.sales, r.Sales)
		t.price = append(t.price, r.Price)
		t.discount = append(t.discount, r.Discount)
		t.rating = append(t.rating, r.Rating)
		return nil
	})
	t.sortedProducts, t.sortedCats, t.sortedRegions = nameOrder(t.products), nameOrder(t.categories), nameOrder(t.regions)
	return t, err
}

// BenchmarkLoad loads the 1,000,000-row dataset: Load (dataset.Scanner)
// against the gocsv baseline.
func BenchmarkLoad(b *testing.B) {
	for _, impl := range []struct {
		name string
		load func([]byte) (*Table, error)
	}{
		{"scanner", func(d []byte) (*Table, error) { return Load(context.Background(), bytes.NewReader(d)) }},
		{"gocsv", loadGocsv},
	} {
		b.Run(impl.name, func(b *testing.B) {
			data := dataset1M(b)
			b.SetBytes(int64(len(data)))
			for b.Loop() {
				t, err := impl.load(data)
				if err != nil || t.Rows() != benchConfig.Rows() {
					b.Fatalf("%v", err)
				}
			}
		})
	}
}

// BenchmarkStandard computes all 1,011 standard series of the 1,000,000-row
// table, against the naive map-based reference.
func BenchmarkStandard(b *testing.B) {
	data := dataset1M(b)
	t, err := Load(context.Background(), bytes.NewReader(data))
	if err != nil {
		b.Fatal(err)
	}
	b.Run("table", func(b *testing.B) {
		for b.Loop() {
			if s := t.Standard(); len(s) != 1+1000+len(datagen.Categories())+len(datagen.Regions()) {
				b.Fatalf("%d series", len(s))
			}
		}
	})
	b.Run("naive", func(b *testing.B) {
		rows := naiveRows(b, data)
		b.ResetTimer()
		for b.Loop() {
			naiveStandard(rows)
		}
	})
}

// BenchmarkFiltered computes one filtered series over the 1,000,000-row table.
func BenchmarkFiltered(b *testing.B) {
	t, err := Load(context.Background(), bytes.NewReader(dataset1M(b)))
	if err != nil {
		b.Fatal(err)
	}
	f := Filter{Category: "Electronics", MinRating: ptr(4), MaxPrice: ptr(500)}
	for b.Loop() {
		if _, err := t.Filtered(f); err != nil {
			b.Fatal(err)
		}
	}
}
