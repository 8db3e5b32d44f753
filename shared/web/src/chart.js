// The forecast chart: observed daily sales (a day without a row is a gap, not a zero), the
// forecast and its interval as a band, with the values of the day under the cursor in the legend.
import uPlot from "uplot";

const DAY = 86400;

const fmt = (v) => (v == null ? "–" : v.toLocaleString(undefined, { maximumFractionDigits: 1 }));

/** dayOf turns "YYYY-MM-DD" into Unix seconds at 00:00 UTC. */
const dayOf = (date) => Date.parse(date + "T00:00:00Z") / 1000;

/**
 * chartData lays history ({dates, sales}) and forecast days ([{date, forecast, lower, upper}]) on
 * one daily axis from the first shown history day to the last forecast day.
 */
export function chartData(history, days) {
  const observed = new Map(history.dates.map((d, i) => [dayOf(d), history.sales[i]]));
  const ahead = new Map(days.map((d) => [dayOf(d.date), d]));
  const first = history.dates.length ? dayOf(history.dates[0]) : dayOf(days[0].date);
  const last = days.length ? dayOf(days[days.length - 1].date) : dayOf(history.dates[history.dates.length - 1]);
  const x = [], sales = [], forecast = [], lower = [], upper = [];
  for (let t = first; t <= last; t += DAY) {
    const f = ahead.get(t);
    x.push(t);
    sales.push(observed.has(t) ? observed.get(t) : null);
    forecast.push(f ? f.forecast : null);
    lower.push(f ? f.lower : null);
    upper.push(f ? f.upper : null);
  }
  // Join the forecast line to the last observed day, so that the eye follows it on.
  const lastSeen = history.dates.length ? dayOf(history.dates[history.dates.length - 1]) : null;
  if (lastSeen !== null && days.length && lastSeen < dayOf(days[0].date)) {
    const i = (lastSeen - first) / DAY;
    forecast[i] = sales[i];
  }
  return [x, sales, forecast, lower, upper];
}

/** ForecastChart draws into a container and redraws on resize. */
export class ForecastChart {
  constructor(container) {
    this.container = container;
    this.plot = null;
    new ResizeObserver(() => this.resize()).observe(container);
  }

  size() {
    const width = Math.max(300, this.container.clientWidth);
    return { width, height: Math.round(Math.min(420, Math.max(280, width * 0.45))) };
  }

  resize() {
    if (this.plot) this.plot.setSize(this.size());
  }

  /** show draws the data of chartData; intervalLabel names the band (e.g. "80% interval"). */
  show(data, intervalLabel) {
    if (this.plot) this.plot.destroy();
    const opts = {
      ...this.size(),
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      cursor: { drag: { x: true, y: false }, points: { size: 7 } },
      scales: { x: { time: true }, y: { range: (u, min, max) => [Math.min(0, min), max * 1.08 || 1] } },
      axes: [
        { stroke: "#5b6475", grid: { stroke: "#eceff4" } },
        { stroke: "#5b6475", grid: { stroke: "#eceff4" }, label: "units sold per day", size: 60, values: (u, vals) => vals.map(fmt) },
      ],
      series: [
        { label: "Date", value: (u, t) => (t == null ? "–" : new Date(t * 1000).toISOString().slice(0, 10)) },
        { label: "Sales", stroke: "#1d2330", width: 1.5, value: (u, v) => fmt(v) },
        { label: "Forecast", stroke: "#1f5fb4", width: 2.5, value: (u, v) => fmt(v) },
        { label: `${intervalLabel} low`, stroke: "#9ec5e8", width: 1, value: (u, v) => fmt(v) },
        { label: `${intervalLabel} high`, stroke: "#9ec5e8", width: 1, value: (u, v) => fmt(v) },
      ],
      bands: [{ series: [4, 3], fill: "rgba(31, 95, 180, 0.15)" }],
    };
    this.plot = new uPlot(opts, data, this.container);
  }
}
