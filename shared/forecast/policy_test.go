package forecast

import (
	"math"
	"reflect"
	"testing"
)

// Service levels whose z is a whole number: Φ(1) and Φ(2).
const (
	levelZ1 = 0.8413447460685429
	levelZ2 = 0.9772498680518208
)

// TestPolicyByHand checks every formula against values computed by hand:
// z = Φ⁻¹(service level), SS = z·σ·√L, d = mean forecast over the lead time,
// ROP = d·L + SS, min = SS, max = ROP + d·R, order = max(0, max − on hand),
// cover = on hand / d.
func TestPolicyByHand(t *testing.T) {
	cases := []struct {
		name     string
		demand   []float64
		sigma    float64
		level    float64
		review   int
		onHand   *float64
		want     Policy // unrounded, OnHand/OrderQuantity/DaysOfCover included
		negative bool
		warnings []string
	}{
		{
			// d = (8+12+10+10)/4 = 10; SS = 1·2·√4 = 4; ROP = 40 + 4 = 44; max = 44 + 10·3 = 74.
			name: "z=1, stock-out risk", demand: []float64{8, 12, 10, 10}, sigma: 2, level: levelZ1, review: 3, onHand: ptr(30),
			want: Policy{Z: 1, DemandSigma: 2, MeanDailyDemand: 10, LeadTimeDemand: 40, SafetyStock: 4,
				ReorderPoint: 44, MinLevel: 4, MaxLevel: 74, OnHand: ptr(30), OrderQuantity: ptr(44), DaysOfCover: ptr(3)},
			warnings: []string{WarnStockOutRisk, WarnReorderNow},
		},
		{
			name: "z=1, at the reorder point", demand: []float64{8, 12, 10, 10}, sigma: 2, level: levelZ1, review: 3, onHand: ptr(44),
			want: Policy{Z: 1, DemandSigma: 2, MeanDailyDemand: 10, LeadTimeDemand: 40, SafetyStock: 4,
				ReorderPoint: 44, MinLevel: 4, MaxLevel: 74, OnHand: ptr(44), OrderQuantity: ptr(30), DaysOfCover: ptr(4.4)},
			warnings: []string{WarnReorderNow},
		},
		{
			name: "z=1, healthy", demand: []float64{8, 12, 10, 10}, sigma: 2, level: levelZ1, review: 3, onHand: ptr(50),
			want: Policy{Z: 1, DemandSigma: 2, MeanDailyDemand: 10, LeadTimeDemand: 40, SafetyStock: 4,
				ReorderPoint: 44, MinLevel: 4, MaxLevel: 74, OnHand: ptr(50), OrderQuantity: ptr(24), DaysOfCover: ptr(5)},
			warnings: []string{WarnHealthy},
		},
		{
			name: "z=1, above the max level", demand: []float64{8, 12, 10, 10}, sigma: 2, level: levelZ1, review: 3, onHand: ptr(100),
			want: Policy{Z: 1, DemandSigma: 2, MeanDailyDemand: 10, LeadTimeDemand: 40, SafetyStock: 4,
				ReorderPoint: 44, MinLevel: 4, MaxLevel: 74, OnHand: ptr(100), OrderQuantity: ptr(0), DaysOfCover: ptr(10)},
			warnings: []string{WarnHealthy},
		},
		{
			name: "z=1, no stock given", demand: []float64{8, 12, 10, 10}, sigma: 2, level: levelZ1, review: 3,
			want: Policy{Z: 1, DemandSigma: 2, MeanDailyDemand: 10, LeadTimeDemand: 40, SafetyStock: 4,
				ReorderPoint: 44, MinLevel: 4, MaxLevel: 74},
		},
		{
			// SS = 2·1.5·√9 = 9; ROP = 5·9 + 9 = 54; max = ROP (no review period).
			name: "z=2, empty shelf", demand: []float64{5, 5, 5, 5, 5, 5, 5, 5, 5}, sigma: 1.5, level: levelZ2, review: 0, onHand: ptr(0),
			want: Policy{Z: 2, DemandSigma: 1.5, MeanDailyDemand: 5, LeadTimeDemand: 45, SafetyStock: 9,
				ReorderPoint: 54, MinLevel: 9, MaxLevel: 54, OnHand: ptr(0), OrderQuantity: ptr(54), DaysOfCover: ptr(0)},
			warnings: []string{WarnStockOutRisk, WarnReorderNow},
		},
		{
			// z(0.95) = 1.6448536269514722 (normal table); SS = z·3·√9 = 14.803682642563249;
			// ROP = 2.5·9 + SS = 37.30368264256325; max = ROP + 2.5·2 = 42.30368264256325.
			name: "service level 0.95", demand: []float64{2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5}, sigma: 3, level: 0.95, review: 2, onHand: ptr(10.5),
			want: Policy{Z: 1.6448536269514722, DemandSigma: 3, MeanDailyDemand: 2.5, LeadTimeDemand: 22.5,
				SafetyStock: 14.803682642563249, ReorderPoint: 37.30368264256325, MinLevel: 14.803682642563249,
				MaxLevel: 42.30368264256325, OnHand: ptr(10.5), OrderQuantity: ptr(31.80368264256325), DaysOfCover: ptr(4.2)},
			warnings: []string{WarnStockOutRisk, WarnReorderNow},
		},
		{
			// d = (−3 + 1)/2 < 0 → 0; SS = 1·1·√2; ROP = min = max = √2; no cover without demand.
			name: "negative forecast", demand: []float64{-3, 1}, sigma: 1, level: levelZ1, review: 4, onHand: ptr(1),
			want: Policy{Z: 1, DemandSigma: 1, SafetyStock: math.Sqrt2, ReorderPoint: math.Sqrt2, MinLevel: math.Sqrt2,
				MaxLevel: math.Sqrt2, OnHand: ptr(1), OrderQuantity: ptr(math.Sqrt2 - 1)},
			negative: true,
			warnings: []string{WarnReorderNow},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Request{LeadTimeDays: len(c.demand), ServiceLevel: c.level, ReviewDays: c.review, OnHand: c.onHand}
			got, negative := newPolicy(c.demand, c.sigma, nil, r)
			want := c.want
			want.LeadTimeDays, want.ServiceLevel, want.ReviewDays = len(c.demand), c.level, c.review
			if !policyNear(got, want) || negative != c.negative {
				t.Fatalf("policy\n%+v (negative %v)\nwant\n%+v (negative %v)", show(got), negative, show(want), c.negative)
			}
			var codes []string
			for _, w := range got.warnings() {
				codes = append(codes, w.Code)
			}
			if !reflect.DeepEqual(codes, c.warnings) {
				t.Fatalf("warnings %v, want %v", codes, c.warnings)
			}
		})
	}
}

// policyNear compares two policies to 1e-12 relative.
func policyNear(a, b Policy) bool {
	floats := func(p Policy) []float64 {
		return []float64{p.ServiceLevel, p.Z, p.DemandSigma, p.MeanDailyDemand, p.LeadTimeDemand,
			p.SafetyStock, p.ReorderPoint, p.MinLevel, p.MaxLevel}
	}
	fa, fb := floats(a), floats(b)
	for i := range fa {
		if !near(fa[i], fb[i], 1e-12) {
			return false
		}
	}
	for _, pair := range [][2]*float64{{a.OnHand, b.OnHand}, {a.OrderQuantity, b.OrderQuantity}, {a.DaysOfCover, b.DaysOfCover}} {
		if (pair[0] == nil) != (pair[1] == nil) || (pair[0] != nil && !near(*pair[0], *pair[1], 1e-12)) {
			return false
		}
	}
	return a.LeadTimeDays == b.LeadTimeDays && a.ReviewDays == b.ReviewDays
}

// show makes a policy's optional fields readable in a failure.
func show(p Policy) map[string]any {
	m := map[string]any{"z": p.Z, "sigma": p.DemandSigma, "d": p.MeanDailyDemand, "ss": p.SafetyStock,
		"rop": p.ReorderPoint, "min": p.MinLevel, "max": p.MaxLevel}
	for name, v := range map[string]*float64{"on_hand": p.OnHand, "order": p.OrderQuantity, "cover": p.DaysOfCover} {
		if v != nil {
			m[name] = *v
		}
	}
	return m
}

func TestPolicyWarningText(t *testing.T) {
	r := Request{LeadTimeDays: 4, ServiceLevel: levelZ1, ReviewDays: 3, OnHand: ptr(30)}
	p, _ := newPolicy([]float64{8, 12, 10, 10}, 2, nil, r)
	want := []Message{
		{WarnStockOutRisk, "Stock-out risk: 30 units on hand cover about 3 days, less than the 4-day lead time, over which 40 units are expected to sell."},
		{WarnReorderNow, "Reorder now: 30 units on hand is at or below the reorder point of 44; order 44 units to reach the maximum level of 74."},
	}
	if got := p.warnings(); !reflect.DeepEqual(got, want) {
		t.Fatalf("warnings\n%v\nwant\n%v", got, want)
	}
	r.OnHand = ptr(120)
	p, _ = newPolicy([]float64{8, 12, 10, 10}, 2, nil, r)
	want = []Message{{WarnHealthy, "Healthy: 120 units on hand is above the reorder point of 44; no order is needed yet."}}
	if got := p.warnings(); !reflect.DeepEqual(got, want) {
		t.Fatalf("warnings\n%v\nwant\n%v", got, want)
	}
}

func TestPolicyRounding(t *testing.T) {
	r := Request{LeadTimeDays: 9, ServiceLevel: 0.95, ReviewDays: 2, OnHand: ptr(10.5)}
	p, _ := newPolicy([]float64{2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5, 2.5}, 3, nil, r)
	got := p.round()
	want := Policy{LeadTimeDays: 9, ServiceLevel: 0.95, ReviewDays: 2, Z: 1.645, DemandSigma: 3, MeanDailyDemand: 2.5,
		LeadTimeDemand: 22.5, SafetyStock: 14.8, ReorderPoint: 37.3, MinLevel: 14.8, MaxLevel: 42.3,
		OnHand: ptr(10.5), OrderQuantity: ptr(32), DaysOfCover: ptr(4.2)}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("rounded\n%+v\nwant\n%+v", show(got), show(want))
	}
	for _, c := range []struct{ order, want float64 }{{58.0000000001, 58}, {58.2, 59}, {0, 0}, {57.99, 58}} {
		q := Policy{OrderQuantity: ptr(c.order)}.round().OrderQuantity
		if *q != c.want {
			t.Errorf("order quantity %v rounds to %v, want %v", c.order, *q, c.want)
		}
	}
	for _, c := range []struct{ v, want float64 }{{-0.001, 0}, {2.346, 2.35}, {-2.344, -2.34}, {7, 7}} {
		got := roundTo(c.v, 2)
		if got != c.want || math.Signbit(got) != math.Signbit(c.want) {
			t.Errorf("roundTo(%v, 2) = %v, want %v", c.v, got, c.want)
		}
	}
}
