// Package datagen writes deterministic synthetic retail sales datasets in the
// stockcast dataset format: columns date, product_id, sales, category, region,
// price, discount, rating, sorted by (date, product_id).
//
// Every value is a pure function of (Seed, product number, calendar day), so a
// dataset can be generated in pieces: the days after a dataset (NextDays), new
// products over its days (NewProducts), or some of its products over some of
// its days (WriteProducts with Start and Days, as the shards of a sharded
// dataset are written) continue the same series.
package datagen

import (
	"bufio"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// Header is the header line written by Write, without the line feed.
const Header = "date,product_id,sales,category,region,price,discount,rating"

// MaxProductNumber is the largest product number of ids of the default width:
// ids are P0001 … P9999, so that byte order and numeric order agree.
const MaxProductNumber = 9999

// DefaultIDDigits is the number of digits of a product id when Config.IDDigits is zero.
const DefaultIDDigits = 4

// IDDigitsFor returns the id width a dataset of products products needs: the
// default width, or more for more than MaxProductNumber products.
func IDDigitsFor(products int) int {
	return max(DefaultIDDigits, len(strconv.Itoa(products)))
}

// Categories are the product categories, each with its price range and the
// day of the year on which its demand peaks.
var categories = []struct {
	name       string
	minPrice   float64
	maxPrice   float64
	peakDayOfY float64
}{
	{"Electronics", 40, 900, 330},
	{"Clothing", 10, 120, 100},
	{"Groceries", 1, 25, 200},
	{"Home", 15, 300, 280},
	{"Toys", 5, 80, 350},
	{"Sports", 10, 250, 160},
}

// Regions are the sales regions a product is assigned to.
var regions = []string{"North", "South", "East", "West"}

// Categories returns the category names the generator uses.
func Categories() []string {
	names := make([]string, len(categories))
	for i, c := range categories {
		names[i] = c.name
	}
	return names
}

// Regions returns the region names the generator uses.
func Regions() []string { return append([]string(nil), regions...) }

// DefaultStart is the first day of a dataset whose Config.Start is zero.
var DefaultStart = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// trendOrigin anchors each product's trend, so that pieces of a dataset
// generated separately continue the same trend.
var trendOrigin = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)

// Config describes a synthetic dataset.
type Config struct {
	// Products is the number of products, numbered from FirstProduct.
	Products int
	// Days is the number of consecutive days starting at Start.
	Days int
	// Start is the first day (its UTC calendar day is used); zero means DefaultStart.
	Start time.Time
	// Seed selects the dataset; the same seed gives the same values.
	Seed int64
	// FirstProduct is the number of the first product (P0001 is 1); zero means 1.
	FirstProduct int
	// MaxRows stops the output after this many rows; zero means Products*Days.
	MaxRows int
	// IDDigits is the number of digits of the product ids (P0001 has 4); zero means
	// DefaultIDDigits. Every id of a dataset has the same width, so that byte order and numeric
	// order agree: 6 digits hold 100,000 products (P000001 … P100000).
	IDDigits int
	// Intermittent is the share of products (0 to 1) whose demand is intermittent: on most
	// days they sell nothing, on the others a few units, still with their weekly and yearly
	// pattern. Which products are intermittent is a function of Seed and the product number;
	// zero means none, and the other products' values do not depend on it.
	Intermittent float64
}

// normalised returns c with defaults applied, or an error naming the bad field.
func (c Config) normalised() (Config, error) {
	if c.Products < 0 || c.Days < 0 || c.MaxRows < 0 || c.FirstProduct < 0 {
		return c, fmt.Errorf("datagen: negative size in config %+v", c)
	}
	if c.FirstProduct == 0 {
		c.FirstProduct = 1
	}
	if c.IDDigits == 0 {
		c.IDDigits = DefaultIDDigits
	}
	if c.IDDigits < 0 || c.IDDigits > 18 {
		return c, fmt.Errorf("datagen: id width %d out of range", c.IDDigits)
	}
	if c.Intermittent < 0 || c.Intermittent > 1 {
		return c, fmt.Errorf("datagen: intermittent share %v is not within 0 … 1", c.Intermittent)
	}
	maxNumber := int(math.Pow10(c.IDDigits)) - 1
	if last := c.FirstProduct + c.Products - 1; c.Products > 0 && last > maxNumber {
		return c, fmt.Errorf("datagen: product number %d exceeds %d (%d-digit ids)", last, maxNumber, c.IDDigits)
	}
	if c.Start.IsZero() {
		c.Start = DefaultStart
	}
	y, m, d := c.Start.UTC().Date()
	c.Start = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return c, nil
}

// Rows returns the number of data rows Write produces for c.
func (c Config) Rows() int {
	n := c.Products * c.Days
	if c.MaxRows > 0 && c.MaxRows < n {
		return c.MaxRows
	}
	return n
}

// End returns the first day after the days c covers.
func (c Config) End() time.Time {
	c, err := c.normalised()
	if err != nil {
		return time.Time{}
	}
	return c.Start.AddDate(0, 0, c.Days)
}

// ProductID returns the id of product number n in a dataset of c's id width.
func (c Config) ProductID(n int) string {
	return fmt.Sprintf("P%0*d", cmp.Or(c.IDDigits, DefaultIDDigits), n)
}

// NextDays returns the config of an upload of rows new rows for base's
// products on the days right after base's last day.
func NextDays(base Config, rows int) Config {
	days := 0
	if base.Products > 0 {
		days = (rows + base.Products - 1) / base.Products
	}
	return Config{
		Products:     base.Products,
		Days:         days,
		Start:        base.End(),
		Seed:         base.Seed,
		FirstProduct: base.FirstProduct,
		MaxRows:      rows,
		IDDigits:     base.IDDigits,
		Intermittent: base.Intermittent,
	}
}

// NewProducts returns the config of an upload of products new products,
// numbered after base's, over base's days.
func NewProducts(base Config, products int) Config {
	first := base.FirstProduct
	if first == 0 {
		first = 1
	}
	return Config{
		Products:     products,
		Days:         base.Days,
		Start:        base.Start,
		Seed:         base.Seed,
		FirstProduct: first + base.Products,
		IDDigits:     base.IDDigits,
		Intermittent: base.Intermittent,
	}
}

// product is the fixed profile of one product.
type product struct {
	number      int
	id          string
	category    string
	region      string
	level       float64 // mean daily sales at the trend origin
	trend       float64 // relative change per year
	weekly      float64 // amplitude of the weekly pattern
	yearly      float64 // amplitude of the yearly pattern
	peakDay     float64 // day of the year with the highest demand
	noise       float64 // relative standard deviation of the noise
	price       float64 // list price
	rating      float64 // mean rating
	promoChance float64 // probability of a discount on a day
	// occurrence is the probability of a sale on a day of an intermittent product (0: the
	// product sells every day); size is the mean number of units of such a sale.
	occurrence float64
	size       float64
}

// intermittentSalt seeds the draws of intermittent demand apart from the others, so that the
// products that are not intermittent keep their values whatever Config.Intermittent is.
const intermittentSalt = 0x5851f42d4c957f2d

// newProduct derives the profile of product number n from the seed; a share intermittent of
// the products are intermittent.
func newProduct(seed int64, n, digits int, intermittent float64) product {
	r := rng{state: mix(uint64(seed), uint64(n), 0x9e3779b97f4a7c15)}
	cat := categories[int(r.next()%uint64(len(categories)))]
	u := r.float()
	p := product{
		number:      n,
		id:          Config{IDDigits: digits}.ProductID(n),
		category:    cat.name,
		region:      regions[int(r.next()%uint64(len(regions)))],
		level:       5 + 195*u*u,
		trend:       -0.1 + 0.4*r.float(),
		weekly:      0.05 + 0.25*r.float(),
		yearly:      0.1 + 0.4*r.float(),
		peakDay:     cat.peakDayOfY + 40*(r.float()-0.5),
		noise:       0.05 + 0.15*r.float(),
		price:       cat.minPrice + (cat.maxPrice-cat.minPrice)*r.float(),
		rating:      2.8 + 2.1*r.float(),
		promoChance: 0.05 + 0.15*r.float(),
	}
	ir := rng{state: mix(uint64(seed), uint64(n), intermittentSalt)}
	if ir.float() < intermittent {
		p.occurrence = 0.05 + 0.3*ir.float()
		p.size = 1 + 5*ir.float()
	}
	return p
}

// Write writes the dataset described by cfg to w as CSV, header first, rows
// sorted by (date, product_id). It streams: memory does not grow with the
// number of days.
func Write(ctx context.Context, w io.Writer, cfg Config) error {
	return WriteProducts(ctx, w, cfg, nil)
}

// WriteProducts writes the rows of some of cfg's products as Write does: those numbered numbers
// (ascending, each among the Products numbered from FirstProduct), or all of them when numbers
// is nil. A shard of a sharded dataset is such a subset; MaxRows is ignored for one.
func WriteProducts(ctx context.Context, w io.Writer, cfg Config, numbers []int) error {
	cfg, err := cfg.normalised()
	if err != nil {
		return err
	}
	limit := cfg.Rows()
	if numbers == nil {
		numbers = make([]int, cfg.Products)
		for i := range numbers {
			numbers[i] = cfg.FirstProduct + i
		}
	} else {
		limit = len(numbers) * cfg.Days
	}
	for i, n := range numbers {
		if n < cfg.FirstProduct || n >= cfg.FirstProduct+cfg.Products || i > 0 && n <= numbers[i-1] {
			return fmt.Errorf("datagen: product %d of the subset is out of order or not among products %d … %d", n, cfg.FirstProduct, cfg.FirstProduct+cfg.Products-1)
		}
	}
	products := make([]product, len(numbers))
	for i, n := range numbers {
		products[i] = newProduct(cfg.Seed, n, cfg.IDDigits, cfg.Intermittent)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(Header + "\n"); err != nil {
		return fmt.Errorf("datagen: write header: %w", err)
	}
	written := 0
	line := make([]byte, 0, 128)
	for d := 0; d < cfg.Days && written < limit; d++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("datagen: %w", err)
		}
		day := cfg.Start.AddDate(0, 0, d)
		date := day.Format(time.DateOnly)
		dayNum := uint64(day.Unix() / 86400)
		years := day.Sub(trendOrigin).Hours() / (24 * 365.25)
		dow := float64(day.Weekday())
		doy := float64(day.YearDay())
		for i := range products {
			if written == limit {
				break
			}
			p := &products[i]
			line = appendRow(line[:0], date, p, cfg.Seed, dayNum, years, dow, doy)
			if _, err := bw.Write(line); err != nil {
				return fmt.Errorf("datagen: write row: %w", err)
			}
			written++
		}
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("datagen: flush: %w", err)
	}
	return nil
}

// appendRow appends the CSV line of product p on one day.
func appendRow(b []byte, date string, p *product, seed int64, dayNum uint64, years, dow, doy float64) []byte {
	r := rng{state: mix(uint64(seed), uint64(p.number), dayNum)}
	discount := 0
	if r.float() < p.promoChance {
		discount = 5 * (1 + int(r.next()%5))
	}
	weekly := 1 + p.weekly*math.Cos(2*math.Pi*(dow-6)/7) // peaks on Saturday
	yearly := 1 + p.yearly*math.Cos(2*math.Pi*(doy-p.peakDay)/365.25)
	trend := math.Max(0.05, 1+p.trend*years)
	mean := p.level * trend * weekly * yearly * (1 + 0.03*float64(discount))
	sales := math.Max(0, math.Round(mean*(1+p.noise*r.normal())))
	if p.occurrence > 0 {
		sales = intermittentSales(p, seed, dayNum, trend*weekly*yearly)
	}
	price := p.price * (1 + 0.02*r.normal()) * (1 - float64(discount)/100)
	rating := math.Min(5, math.Max(1, p.rating+0.15*r.normal()))

	b = append(b, date...)
	b = append(b, ',')
	b = append(b, p.id...)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(sales), 10)
	b = append(b, ',')
	b = append(b, p.category...)
	b = append(b, ',')
	b = append(b, p.region...)
	b = append(b, ',')
	b = strconv.AppendFloat(b, math.Max(0.01, price), 'f', 2, 64)
	b = append(b, ',')
	b = strconv.AppendInt(b, int64(discount), 10)
	b = append(b, ',')
	b = strconv.AppendFloat(b, rating, 'f', 1, 64)
	return append(b, '\n')
}

// intermittentSales is the demand of intermittent product p on a day whose trend and seasonal
// factors multiply to pattern: nothing, or with probability p.occurrence a sale of about p.size
// units scaled by the pattern, at least one.
func intermittentSales(p *product, seed int64, dayNum uint64, pattern float64) float64 {
	r := rng{state: mix(uint64(seed)^intermittentSalt, uint64(p.number), dayNum)}
	if r.float() >= p.occurrence {
		return 0
	}
	return math.Max(1, math.Round(p.size*pattern*(1+0.5*r.normal())))
}

// mix combines three words into one well-mixed seed.
func mix(a, b, c uint64) uint64 {
	return splitmix(splitmix(splitmix(a)^b) ^ c)
}

// splitmix is the SplitMix64 finaliser.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rng is a small SplitMix64 generator: cheap to seed per row.
type rng struct{ state uint64 }

func (r *rng) next() uint64 {
	r.state += 0x9e3779b97f4a7c15
	return splitmix(r.state)
}

// float returns a uniform number in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// normal returns a standard normal number (Box–Muller).
func (r *rng) normal() float64 {
	u := 1 - r.float() // (0, 1]
	return math.Sqrt(-2*math.Log(u)) * math.Cos(2*math.Pi*r.float())
}
