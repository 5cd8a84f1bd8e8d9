// Chart.js (served by Tollgate from node_modules as a UMD bundle: window.Chart) behind two small functions.
import { providerColor, providerName, usd, num, date, month } from './format.js';

const charts = new Map();

function ChartLib() {
  return window.Chart ?? null;
}

function upsert(canvasId, config) {
  const Chart = ChartLib();
  const canvas = document.getElementById(canvasId);
  if (!Chart || !canvas) return null;
  let chart = charts.get(canvasId);
  if (!chart) {
    chart = new Chart(canvas, config);
    charts.set(canvasId, chart);
    return chart;
  }
  chart.data = config.data;
  chart.options = config.options;
  chart.update('none');
  return chart;
}

export function destroyCharts() {
  for (const chart of charts.values()) chart.destroy();
  charts.clear();
}

export function chartsAvailable() {
  return Boolean(ChartLib());
}

const BASE = {
  animation: false,
  responsive: true,
  maintainAspectRatio: false,
  plugins: { legend: { position: 'bottom', labels: { color: '#1b1f24', boxWidth: 12 } } },
};

/** Calls (bars, left axis) and cost (bars, right axis) per provider. */
export function providersChart(rows) {
  return upsert('chart-providers', {
    type: 'bar',
    data: {
      labels: rows.map((r) => providerName(r.provider)),
      datasets: [
        { label: 'Calls', data: rows.map((r) => r.calls), backgroundColor: rows.map((r, i) => providerColor(r.provider, i)), yAxisID: 'y' },
        { label: 'Cost (USD)', data: rows.map((r) => r.cost), backgroundColor: rows.map((r, i) => `${providerColor(r.provider, i)}66`), borderColor: rows.map((r, i) => providerColor(r.provider, i)), borderWidth: 2, yAxisID: 'y1' },
      ],
    },
    options: {
      ...BASE,
      scales: {
        x: { ticks: { color: '#1b1f24' } },
        y: { beginAtZero: true, position: 'left', title: { display: true, text: 'Calls', color: '#4a5360' }, ticks: { color: '#4a5360', precision: 0 } },
        y1: { beginAtZero: true, position: 'right', grid: { drawOnChartArea: false }, title: { display: true, text: 'Cost (USD)', color: '#4a5360' }, ticks: { color: '#4a5360', callback: (v) => usd(v) } },
      },
      plugins: {
        ...BASE.plugins,
        tooltip: { callbacks: { label: (ctx) => (ctx.dataset.yAxisID === 'y1' ? `Cost: ${usd(ctx.raw)}` : `Calls: ${num(ctx.raw)}`) } },
      },
    },
  });
}

/** Stacked bars per provider over time. */
export function trendsChart(series, metric, granularity) {
  const labels = series.buckets.map((b) => (granularity === 'month' ? month(b.start) : date(b.start)));
  const datasets = series.providers.map((p, i) => ({
    label: providerName(p),
    data: series.buckets.map((b) => b.providers[p]?.[metric] ?? 0),
    backgroundColor: providerColor(p, i),
    stack: 'usage',
  }));
  if (datasets.length === 0) datasets.push({ label: 'All providers', data: series.buckets.map((b) => b.total[metric] ?? 0), backgroundColor: '#1d4ed8', stack: 'usage' });
  const fmt = metric === 'cost' ? (v) => usd(v) : (v) => num(v);
  return upsert('chart-trends', {
    type: 'bar',
    data: { labels, datasets },
    options: {
      ...BASE,
      scales: {
        x: { stacked: true, ticks: { color: '#1b1f24', maxRotation: 0, autoSkip: true, maxTicksLimit: granularity === 'month' ? 12 : 8 } },
        y: { stacked: true, beginAtZero: true, ticks: { color: '#4a5360', callback: fmt, ...(metric === 'cost' ? {} : { precision: 0 }) } },
      },
      plugins: { ...BASE.plugins, tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${fmt(ctx.raw)}` } } },
    },
  });
}
