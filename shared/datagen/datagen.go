// Package datagen writes deterministic synthetic retail sales datasets in the
// stockcast dataset format: columns date, product_id, sales, category, region,
// price, discount, rating, sorted by (date, product_id).
//
// Every value is a pure function of (Seed, product number, calendar day), so a
// dataset can be generated in pieces: the days after a dataset (NextDays) or
// new products over its days (NewProducts) continue the same series.
package datagen

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
)

// Header is the header line written by Write, without the line feed.
const Header = "date,product_id,sales,category,region,price,discount,rating"

// MaxProductNumber is the largest product number: ids are P0001 … P9999, so
// that byte order and numeric order agree.
const MaxProductNumber = 9999

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
}

// normalised returns c with defaults applied, or an error naming the bad field.
func (c Config) normalised() (Config, error) {
	if c.Products < 0 || c.Days < 0 || c.MaxRows < 0 || c.FirstProduct < 0 {
		return c, fmt.Errorf("datagen: negative size in config %+v", c)
	}
	if c.FirstProduct == 0 {
		c.FirstProduct = 1
	}
	if last := c.FirstProduct + c.Products - 1; c.Products > 0 && last > MaxProductNumber {
		return c, fmt.Errorf("datagen: product number %d exceeds %d", last, MaxProductNumber)
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
}

// newProduct derives the profile of product number n from the seed.
func newProduct(seed int64, n int) product {
	r := rng{state: mix(uint64(seed), uint64(n), 0x9e3779b97f4a7c15)}
	cat := categories[int(r.next()%uint64(len(categories)))]
	u := r.float()
	return product{
		number:      n,
		id:          fmt.Sprintf("P%04d", n),
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
}

// Write writes the dataset described by cfg to w as CSV, header first, rows
// sorted by (date, product_id). It streams: memory does not grow with the
// number of days.
func Write(ctx context.Context, w io.Writer, cfg Config) error {
	cfg, err := cfg.normalised()
	if err != nil {
		return err
	}
	products := make([]product, cfg.Products)
	for i := range products {
		products[i] = newProduct(cfg.Seed, cfg.FirstProduct+i)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	if _, err := bw.WriteString(Header + "\n"); err != nil {
		return fmt.Errorf("datagen: write header: %w", err)
	}
	limit := cfg.Rows()
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
