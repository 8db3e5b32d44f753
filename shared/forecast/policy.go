package forecast

import (
	"fmt"
	"math"
	"strconv"

	"gonum.org/v1/gonum/stat/distuv"
)

// Policy is the inventory policy derived from a forecast, in sales units
// (the unit of the dataset's sales column) and days. The quantities are
// computed in float64 from unrounded inputs and rounded only for display:
// demands, sigma and stock levels to 2 decimals, z to 3, days of cover to 1,
// and the order quantity up to whole units.
type Policy struct {
	// LeadTimeDays (L) is the lead time used, the request's lead_time_days.
	LeadTimeDays int `json:"lead_time_days"`
	// ServiceLevel is the service level used: the probability of not running
	// out of stock during a lead time.
	ServiceLevel float64 `json:"service_level"`
	// ReviewDays (R) is the review period used, the request's review_days.
	ReviewDays int `json:"review_days"`
	// Z is the standard normal quantile of the service level.
	Z float64 `json:"z"`
	// DemandSigma (σ) is the standard deviation of one day's demand around
	// the forecast, in sales units: the RMS backtest error of model=auto's
	// selection, a statistical model's one-step σ, or the trend model's
	// observation noise on the trend/LSTM path.
	DemandSigma float64 `json:"demand_sigma"`
	// MeanDailyDemand (d) is the mean of the served forecast over the L days
	// after the series' last date (forecast for the lead time even when fewer
	// days are shown), floored at 0.
	MeanDailyDemand float64 `json:"mean_daily_demand"`
	// LeadTimeDemand is the expected demand over the lead time, d·L.
	LeadTimeDemand float64 `json:"lead_time_demand"`
	// SafetyStock is, for model=auto, the service-level quantile of the
	// backtest's demand error summed over the lead time (at least 0); for
	// the other models z·σ·√L.
	SafetyStock float64 `json:"safety_stock"`
	// ReorderPoint is d·L + safety stock: order when stock falls to it.
	ReorderPoint float64 `json:"reorder_point"`
	// MinLevel is the lowest stock the policy plans for: the safety stock.
	MinLevel float64 `json:"min_level"`
	// MaxLevel is the order-up-to level: reorder point + d·R.
	MaxLevel float64 `json:"max_level"`
	// OnHand is the request's on_hand; omitted when not given.
	OnHand *float64 `json:"on_hand,omitempty"`
	// OrderQuantity is max(0, max level − on hand), rounded up to whole
	// units; omitted when on_hand is not given.
	OrderQuantity *float64 `json:"order_quantity,omitempty"`
	// DaysOfCover is on hand / d; omitted when on_hand is not given or d is 0.
	DaysOfCover *float64 `json:"days_of_cover,omitempty"`
}

// Message is a plain-language statement with a stable code.
type Message struct {
	// Code identifies the kind of message, e.g. "reorder_now".
	Code string `json:"code"`
	// Text says it in plain language.
	Text string `json:"message"`
}

// Warning codes of the inventory policy.
const (
	WarnStockOutRisk = "stockout_risk" // on hand < expected demand over the lead time
	WarnReorderNow   = "reorder_now"   // on hand ≤ reorder point
	WarnHealthy      = "healthy"       // on hand > reorder point
)

// newPolicy computes the policy from the served forecast of the L days of
// the lead time (len(leadDemand) = L), the demand sigma, the safety stock
// (nil: z·σ·√L; a negative quantile counts as 0) and the request. negative reports that the forecast's mean over the lead time was below
// zero and was floored.
func newPolicy(leadDemand []float64, sigma float64, safety *float64, r Request) (p Policy, negative bool) {
	L := float64(r.LeadTimeDays)
	mean := 0.0
	for _, v := range leadDemand {
		mean += v
	}
	mean /= float64(len(leadDemand))
	negative = mean < 0
	mean = math.Max(mean, 0)
	z := distuv.UnitNormal.Quantile(r.ServiceLevel)
	p = Policy{
		LeadTimeDays:    r.LeadTimeDays,
		ServiceLevel:    r.ServiceLevel,
		ReviewDays:      r.ReviewDays,
		Z:               z,
		DemandSigma:     sigma,
		MeanDailyDemand: mean,
		LeadTimeDemand:  mean * L,
		SafetyStock:     z * sigma * math.Sqrt(L),
	}
	if safety != nil {
		p.SafetyStock = math.Max(0, *safety)
	}
	p.ReorderPoint = p.LeadTimeDemand + p.SafetyStock
	p.MinLevel = p.SafetyStock
	p.MaxLevel = p.ReorderPoint + mean*float64(r.ReviewDays)
	if r.OnHand != nil {
		onHand := *r.OnHand
		order := math.Max(0, p.MaxLevel-onHand)
		p.OnHand, p.OrderQuantity = &onHand, &order
		if mean > 0 {
			cover := onHand / mean
			p.DaysOfCover = &cover
		}
	}
	return p, negative
}

// round returns p as displayed.
func (p Policy) round() Policy {
	r := p
	r.Z = roundTo(p.Z, 3)
	r.DemandSigma = roundTo(p.DemandSigma, 2)
	r.MeanDailyDemand = roundTo(p.MeanDailyDemand, 2)
	r.LeadTimeDemand = roundTo(p.LeadTimeDemand, 2)
	r.SafetyStock = roundTo(p.SafetyStock, 2)
	r.ReorderPoint = roundTo(p.ReorderPoint, 2)
	r.MinLevel = roundTo(p.MinLevel, 2)
	r.MaxLevel = roundTo(p.MaxLevel, 2)
	if p.OrderQuantity != nil {
		// Whole units, up; the tolerance keeps float noise (58.0000000001) from adding a unit.
		q := math.Max(0, math.Ceil(*p.OrderQuantity-1e-9))
		r.OrderQuantity = &q
	}
	if p.DaysOfCover != nil {
		c := roundTo(*p.DaysOfCover, 1)
		r.DaysOfCover = &c
	}
	return r
}

// warnings are the plain-language stock warnings of p (unrounded): none
// without on hand; otherwise stock-out risk and reorder now when they apply,
// or healthy. The numbers quoted are the displayed ones.
func (p Policy) warnings() []Message {
	if p.OnHand == nil {
		return nil
	}
	onHand := *p.OnHand
	shown := p.round()
	var out []Message
	if onHand < p.LeadTimeDemand {
		out = append(out, Message{WarnStockOutRisk, fmt.Sprintf(
			"Stock-out risk: %s units on hand cover about %s days, less than the %d-day lead time, over which %s units are expected to sell.",
			num(onHand), num(*shown.DaysOfCover), p.LeadTimeDays, num(shown.LeadTimeDemand))})
	}
	if onHand <= p.ReorderPoint {
		out = append(out, Message{WarnReorderNow, fmt.Sprintf(
			"Reorder now: %s units on hand is at or below the reorder point of %s; order %s units to reach the maximum level of %s.",
			num(onHand), num(shown.ReorderPoint), num(*shown.OrderQuantity), num(shown.MaxLevel))})
	} else {
		out = append(out, Message{WarnHealthy, fmt.Sprintf(
			"Healthy: %s units on hand is above the reorder point of %s; no order is needed yet.",
			num(onHand), num(shown.ReorderPoint))})
	}
	return out
}

// roundTo rounds v to the given number of decimals, halves away from zero;
// a result of negative zero becomes zero.
func roundTo(v float64, decimals int) float64 {
	scale := math.Pow(10, float64(decimals))
	return math.Round(v*scale)/scale + 0
}

// num formats a displayed number without trailing zeros.
func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
