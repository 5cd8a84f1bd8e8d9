// The billing dashboard: sign-in, the two views, and polling. Plain ES module, no build step.
import { createApi } from './api.js';
import { $, h, setText, show } from './dom.js';
import { alertList, billingRows, limitRows, logPage, performanceRows, providerRows, summary, tenantUsers, trendSeries } from './adapters.js';
import { band, date, dateTime, timeUtc, daysLeft, limitFigure, limitName, month, ms, num, pct, periodRange, providerColor, providerName, usd, usedPct, PROVIDERS } from './format.js';
import { chartsAvailable, destroyCharts, providersChart, trendsChart } from './charts.js';

const POLL_MS = 2500;
const SLOW_REFRESH_MS = 30_000;
const LOG_PAGE_SIZE = 25;
const STORE_KEY = 'tollgate.dashboard.key';
const STORE_USER = 'tollgate.dashboard.user';
const STORE_VIEW = 'tollgate.dashboard.view';

const state = {
  key: sessionStorage.getItem(STORE_KEY),
  who: null,
  userId: null,
  view: sessionStorage.getItem(STORE_VIEW) === 'detailed' || location.pathname.replace(/\/+$/, '').endsWith('/details') ? 'detailed' : 'compact',
  generation: 0,
  timer: null,
  busy: false,
  data: {},
  rendered: new Map(),
  log: { cursors: [null], page: 0, filters: { provider: '', status: '', model: '' } },
  trend: { granularity: 'day', metric: 'calls', fetchedAt: 0, calls: null },
  billingFetchedAt: 0,
  alertsUnreadOnly: false,
  lastOkAt: null,
};

const api = createApi(() => state.key);

// ---------------------------------------------------------------- messages

function banner(message, kind = 'error') {
  const el = $('banner');
  if (!message) {
    el.hidden = true;
    el.textContent = '';
    return;
  }
  el.dataset.kind = kind;
  el.textContent = message;
  el.hidden = false;
}

function explain(err) {
  switch (err?.kind) {
    case 'unauthorized':
      return 'Tollgate did not accept this key (HTTP 401). Check that you copied the whole key (it starts with tg_) and that it has not been revoked.';
    case 'unreachable':
      return `${err.message} Check that Tollgate is running and that this device can reach it; the page retries every few seconds.`;
    case 'forbidden':
      return 'This key may not read these figures (HTTP 403).';
    case 'not_found':
      return 'No such user for this key (HTTP 404).';
    default:
      return `Tollgate answered with an error: ${err?.message ?? String(err)}`;
  }
}

// ---------------------------------------------------------------- sign-in

async function signIn(key, { restoring = false } = {}) {
  const button = $('signin-button');
  button.disabled = true;
  setText('signin-error', '');
  state.key = key;
  try {
    const who = await api.whoami();
    state.who = who;
    sessionStorage.setItem(STORE_KEY, key);
    if (who.role === 'user') {
      openBoard(who.user_id);
    } else if (who.role === 'tenant') {
      const remembered = sessionStorage.getItem(STORE_USER);
      if (restoring && remembered) openBoard(remembered);
      else await openPicker();
    } else {
      forget();
      setText('signin-error', 'This is the operator key. Sign in with a tenant key or a user key to see a user\u2019s usage.');
      showSignIn();
    }
  } catch (err) {
    if (err.kind === 'unauthorized') forget();
    else if (err.kind !== 'unreachable') forget();
    if (restoring && err.kind === 'unreachable') {
      // Keep the key: the server may come back.
      state.key = key;
    }
    showSignIn();
    setText('signin-error', explain(err));
  } finally {
    button.disabled = false;
  }
}

function forget() {
  state.key = null;
  state.who = null;
  state.userId = null;
  sessionStorage.removeItem(STORE_KEY);
  sessionStorage.removeItem(STORE_USER);
}

function showSignIn() {
  stopPolling();
  show('signin', true);
  show('picker', false);
  show('board', false);
  show('session', false);
  $('key-input').value = '';
  $('key-input').focus();
}

function signOut(message) {
  forget();
  clearBoard();
  showSignIn();
  banner(null);
  if (message) setText('signin-error', message);
}

function sessionLabel() {
  const who = state.who;
  if (!who) return '';
  if (who.role === 'user') return `User ${who.user_id} · tenant ${who.tenant_id}`;
  return `Tenant ${who.tenant_id}${state.userId ? ` · viewing ${state.userId}` : ''}`;
}

function renderSession() {
  show('session', true);
  setText('who', sessionLabel());
  let change = $('change-user');
  if (state.who?.role === 'tenant' && !change) {
    change = h('button', { type: 'button', id: 'change-user', class: 'btn btn-quiet', onclick: () => openPicker() }, 'Change user');
    $('sign-out').before(change);
  }
  if (change) change.hidden = state.who?.role !== 'tenant' || !state.userId;
}

async function openPicker() {
  stopPolling();
  clearBoard();
  show('signin', false);
  show('board', false);
  show('picker', true);
  state.userId = null;
  renderSession();
  const select = $('user-select');
  select.replaceChildren(h('option', { value: '' }, 'Loading…'));
  try {
    const users = tenantUsers(await api.tenantKeys());
    select.replaceChildren(...(users.length ? users.map((u) => h('option', { value: u }, u)) : [h('option', { value: '' }, 'No user keys issued yet')]));
  } catch (err) {
    select.replaceChildren(h('option', { value: '' }, 'The list is not available'));
    if (err.kind === 'unauthorized') return signOut(explain(err));
    banner(explain(err));
  }
  (select.options.length && select.value ? select : $('user-input')).focus();
}

// ---------------------------------------------------------------- the board

function clearBoard() {
  state.generation++;
  state.data = {};
  state.rendered.clear();
  state.log = { cursors: [null], page: 0, filters: { provider: '', status: '', model: '' } };
  state.trend.fetchedAt = 0;
  state.trend.calls = null;
  state.billingFetchedAt = 0;
  destroyCharts();
  for (const id of ['limits', 'alerts']) $(id).replaceChildren();
  for (const id of ['providers-table', 'perf-table', 'log-table', 'billing-table']) $(id).tBodies[0].replaceChildren();
  for (const id of ['plan-name', 'total-cost', 'projected-cost', 'usage-status', 'total-calls', 'days-left']) setText(id, '–');
  for (const id of ['plan-cycle', 'plan-period', 'cost-limit', 'updated', 'trend-meta']) setText(id, '');
  $('log-filters').reset();
}

function openBoard(userId) {
  clearBoard();
  state.userId = userId;
  if (state.who?.role === 'tenant') sessionStorage.setItem(STORE_USER, userId);
  show('signin', false);
  show('picker', false);
  show('board', true);
  renderSession();
  setText('board-title', state.who?.role === 'user' ? 'Your usage' : `Usage of ${userId}`);
  selectView(state.view, { focus: false });
  banner(null);
  startPolling();
  $('main').focus();
}

function selectView(view, { focus = true } = {}) {
  state.view = view;
  sessionStorage.setItem(STORE_VIEW, view);
  const detailed = view === 'detailed';
  $('tab-compact').setAttribute('aria-selected', String(!detailed));
  $('tab-detailed').setAttribute('aria-selected', String(detailed));
  $('tab-compact').tabIndex = detailed ? -1 : 0;
  $('tab-detailed').tabIndex = detailed ? 0 : -1;
  show('view-compact', !detailed);
  show('view-detailed', detailed);
  const path = detailed ? '/dashboard/details' : '/dashboard';
  if (location.pathname !== path) history.replaceState(null, '', path);
  if (focus) $(detailed ? 'tab-detailed' : 'tab-compact').focus();
  if (detailed) {
    // Canvases in a hidden panel have no size: draw again now that it shows.
    state.rendered.delete('providers');
    state.rendered.delete('trends');
    renderAll();
    void refresh();
  }
}

// ---------------------------------------------------------------- polling

function startPolling() {
  stopPolling();
  const tick = async () => {
    await refresh();
    state.timer = setTimeout(tick, document.hidden ? POLL_MS * 4 : POLL_MS);
  };
  void tick();
}

/** Tollgate's health is shown on every screen (sign-in too), checked every few seconds. */
function startHealthChecks() {
  const tick = async () => {
    if (!state.userId) renderHealth(await api.ready());
    setTimeout(tick, document.hidden ? POLL_MS * 4 : POLL_MS * 2);
  };
  void tick();
}

function stopPolling() {
  if (state.timer) clearTimeout(state.timer);
  state.timer = null;
}

async function refresh() {
  if (!state.userId || state.busy) return;
  state.busy = true;
  const gen = state.generation;
  const user = state.userId;
  try {
    const now = Date.now();
    const wantDetail = state.view === 'detailed';
    const jobs = {
      ready: api.ready(),
      dashboard: api.dashboard(user),
      usage: api.usage(user),
      status: api.status(user),
      alerts: api.alerts(user),
    };
    if (wantDetail) {
      jobs.logs = api.logs(user, logQuery());
      const calls = state.data.dashboard?.current_usage?.total_calls;
      if (now - state.trend.fetchedAt > SLOW_REFRESH_MS || state.trend.calls !== calls) jobs.trends = api.trends(user, state.trend.granularity, 6);
      if (now - state.billingFetchedAt > SLOW_REFRESH_MS) jobs.billing = api.billing(user);
    }
    const names = Object.keys(jobs);
    const results = await Promise.allSettled(Object.values(jobs));
    if (gen !== state.generation || user !== state.userId) return; // a late answer for a user no longer shown
    const errors = [];
    results.forEach((r, i) => {
      const name = names[i];
      if (r.status === 'fulfilled') {
        state.data[name] = r.value;
        state.data[`${name}Error`] = null;
      } else {
        state.data[`${name}Error`] = r.reason;
        errors.push(r.reason);
      }
    });
    if (jobs.trends && results[names.indexOf('trends')].status === 'fulfilled') {
      state.trend.fetchedAt = now;
      state.trend.calls = state.data.dashboard?.current_usage?.total_calls;
    }
    if (jobs.billing && results[names.indexOf('billing')].status === 'fulfilled') state.billingFetchedAt = now;
    renderHealth(state.data.ready);
    if (errors.some((e) => e?.kind === 'unauthorized')) return signOut(explain({ kind: 'unauthorized' }) + ' You have been signed out.');
    const unreachable = state.data.ready?.unreachable || errors.some((e) => e?.kind === 'unreachable');
    if (unreachable) {
      banner(`${explain({ kind: 'unreachable', message: `Tollgate cannot be reached at ${location.origin}.` })}${state.lastOkAt ? ` The figures below are from ${timeUtc(state.lastOkAt)}.` : ''}`);
    } else if (state.data.dashboardError?.kind === 'not_found') {
      banner(`No user ${user} is visible to this key (HTTP 404).`);
    } else if (state.data.dashboardError) {
      banner(explain(state.data.dashboardError));
    } else {
      banner(null);
      state.lastOkAt = Date.now();
    }
    renderAll();
    if (!unreachable) setText('updated', `Updated ${timeUtc(Date.now())}`);
  } finally {
    state.busy = false;
  }
}

// ---------------------------------------------------------------- rendering

/** Draws a section only when its data changed, so focus and scroll stay put between polls. */
function renderIfChanged(name, data, fn) {
  const sig = JSON.stringify(data ?? null);
  if (state.rendered.get(name) === sig) return;
  state.rendered.set(name, sig);
  fn(data);
}

function renderAll() {
  const sum = summary(state.data);
  renderIfChanged('compact', { sum, alerts: state.data.alerts }, () => renderCompact(sum));
  renderIfChanged('limits', limitRows(sum).concat([{ t: sum.thresholds }]), () => renderLimits(sum));
  if (state.view !== 'detailed') return;
  renderIfChanged('providers', providerRows(sum), (rows) => renderProviders(rows));
  renderIfChanged('perf', performanceRows(sum, state.data.usage), (rows) => renderPerformance(rows));
  renderIfChanged('alerts', { a: state.data.alerts, u: state.alertsUnreadOnly, e: state.data.alertsError?.message }, () => renderAlerts());
  renderIfChanged('logs', { l: state.data.logs, e: state.data.logsError?.message, p: state.log.page }, () => renderLogs());
  renderIfChanged('trends', { t: state.data.trends, m: state.trend.metric, g: state.trend.granularity, e: state.data.trendsError?.message }, () => renderTrends());
  renderIfChanged('billing', { b: state.data.billing, e: state.data.billingError?.message }, () => renderBilling());
}

function serverNow(sum) {
  const t = sum.asOf ? new Date(sum.asOf).getTime() : NaN;
  return Number.isNaN(t) ? new Date() : new Date(t);
}

const STATUS_TEXT = { active: 'Active', warning: 'Warning', limit_reached: 'Limit reached', suspended: 'Suspended' };

function renderCompact(sum) {
  setText('plan-name', sum.planName ?? '–');
  setText('plan-cycle', [sum.billingCycle ? `Billed ${sum.billingCycle}` : null, sum.subscriptionStatus && sum.subscriptionStatus !== 'active' ? `(${sum.subscriptionStatus})` : null].filter(Boolean).join(' '));
  setText('plan-period', sum.periodStart ? `Period ${periodRange(sum.periodStart, sum.periodEnd)}` : '');
  const days = sum.daysRemaining ?? daysLeft(sum.periodEnd, serverNow(sum));
  const daysEl = setText('days-left', days === null ? '–' : num(days));
  daysEl.dataset.value = days ?? '';
  setText('days-left-label', days === 1 ? 'day left' : 'days left');

  const cost = setText('total-cost', usd(sum.totalCost));
  cost.dataset.value = sum.totalCost;
  cost.title = `Exact: ${sum.totalCost} USD`;
  const costLimit = sum.limits.monthly_cost;
  setText('cost-limit', typeof costLimit === 'number' ? `of ${usd(costLimit)} monthly cost limit (${usedPct(sum.percentages.cost ?? sum.percentages.monthly_cost ?? (costLimit ? (sum.totalCost / costLimit) * 100 : 0), sum.totalCost)})` : 'No monthly cost limit');
  const projected = setText('projected-cost', sum.projectedCost === null ? '–' : usd(sum.projectedCost));
  projected.dataset.value = sum.projectedCost ?? '';
  setText('tip-projected', `The cost this period will reach at the current pace${sum.projectionMethod ? ` (${describeMethod(sum.projectionMethod)})` : ''}${sum.projectedPercent !== null ? `; ${pct(sum.projectedPercent)} of the plan's limit` : ''}.`);

  const status = setText('usage-status', STATUS_TEXT[sum.usageStatus] ?? sum.usageStatus ?? '–');
  status.dataset.status = sum.usageStatus ?? '';
  const calls = setText('total-calls', num(sum.totalCalls));
  calls.dataset.value = sum.totalCalls;
  const unread = alertList(state.data.alerts).filter((a) => !a.is_read).length;
  const unreadEl = setText('unread-alerts', num(unread));
  unreadEl.dataset.value = unread;
  const trend = setText('usage-trend', sum.usageTrend ? `${sum.usageTrend}${{ increasing: ' \u2197', decreasing: ' \u2198', stable: ' \u2192' }[sum.usageTrend] ?? ''}` : '–');
  trend.dataset.value = sum.usageTrend ?? '';

  const recs = Array.isArray(sum.recommendations) ? sum.recommendations.filter((r) => r && r.message) : [];
  $('recs').replaceChildren(...recs.map((r) => h('li', { class: 'rec', dataset: { type: r.type ?? '' } }, r.message)));
  show('recs-section', recs.length > 0);
}

function describeMethod(method) {
  if (!method) return '';
  const text = typeof method === 'string' ? method : JSON.stringify(method);
  return text.replace(/_/g, ' ').replace(/\s\*\s/g, ' \u00d7 ');
}

function renderLimits(sum) {
  const rows = limitRows(sum);
  const thresholds = (Array.isArray(sum.thresholds) && sum.thresholds.length ? sum.thresholds : [80, 90, 100]).map(Number).filter((t) => t > 0 && t <= 100);
  const list = $('limits');
  list.replaceChildren(
    ...rows.map((r) => {
      const p = r.percent ?? 0;
      const figure = limitFigure(r.key, r.used, r.limit);
      const id = `limit-${r.key}`;
      return h(
        'li',
        { class: 'limit', id, dataset: { limit: r.key, used: r.used ?? '', max: r.limit, percent: r.percent ?? '' } },
        h('div', { class: 'limit-head' }, h('span', { class: 'limit-name', id: `${id}-name` }, limitName(r.key)), h('span', { class: 'limit-figure' }, h('strong', {}, figure), ` · ${usedPct(r.percent, r.used)}`)),
        h(
          'div',
          { class: 'bar', role: 'progressbar', 'aria-labelledby': `${id}-name`, 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': Math.round(Math.min(p, 100) * 10) / 10, 'aria-valuetext': `${figure} (${usedPct(r.percent, r.used)})`, dataset: { band: band(p, thresholds) } },
          h('div', { class: 'bar-fill', style: { width: `${Math.min(Math.max(p, 0), 100)}%` } }),
          ...thresholds.map((t) => h('span', { class: 'mark', style: { left: `calc(${t}% - 1px)` }, 'aria-hidden': 'true', title: `${t}%` })),
          ...thresholds.map((t) => h('span', { class: t >= 100 ? 'mark-label last' : 'mark-label', style: { left: `${t}%` }, 'aria-hidden': 'true' }, String(t), h('span', { class: 'pct-sign' }, '%'))),
        ),
      );
    }),
  );
  show('limits-empty', rows.length === 0);
}

function chip(provider) {
  return h('span', { class: 'chip', dataset: { provider } }, h('span', { class: 'chip-dot', style: { background: providerColor(provider) }, 'aria-hidden': 'true' }), providerName(provider));
}

function renderProviders(rows) {
  const totalCost = rows.reduce((a, r) => a + r.cost, 0);
  $('providers-table').tBodies[0].replaceChildren(
    ...(rows.length
      ? rows.map((r) =>
          h(
            'tr',
            { dataset: { provider: r.provider } },
            h('th', { scope: 'row' }, chip(r.provider)),
            h('td', { class: 'num', dataset: { field: 'calls', value: r.calls } }, num(r.calls)),
            h('td', { class: 'num', dataset: { field: 'tokens', value: r.tokens } }, num(r.tokens)),
            h('td', { class: 'num', dataset: { field: 'cost', value: r.cost }, title: `Exact: ${r.cost} USD` }, usd(r.cost)),
            h('td', { class: 'num' }, totalCost > 0 ? pct((r.cost / totalCost) * 100) : '–'),
          ),
        )
      : [h('tr', {}, h('td', { colspan: 5, class: 'empty' }, 'No calls this period yet.'))]),
  );
  // An empty chart says nothing: show it only with data.
  show($('chart-providers').parentElement, rows.length > 0);
  if (chartsAvailable() && rows.length) providersChart(rows);
  fillProviderFilter(rows.map((r) => r.provider));
}

function fillProviderFilter(seen) {
  const select = $('log-provider');
  const current = select.value;
  const ids = [...new Set([...seen, ...Object.keys(PROVIDERS).filter((p) => p !== 'metaphor')])];
  select.replaceChildren(h('option', { value: '' }, 'All'), ...ids.map((p) => h('option', { value: p }, providerName(p))));
  select.value = current;
}

function renderPerformance(rows) {
  $('perf-table').tBodies[0].replaceChildren(
    ...(rows.length
      ? rows.map((r) =>
          h(
            'tr',
            { dataset: { provider: r.provider } },
            h('th', { scope: 'row' }, chip(r.provider)),
            h('td', { class: 'num' }, num(r.calls)),
            h('td', { class: 'num', dataset: { field: 'p50' } }, ms(r.p50 ?? r.avg)),
            h('td', { class: 'num', dataset: { field: 'p95' } }, ms(r.p95)),
            h('td', { class: 'num', dataset: { field: 'p99' } }, ms(r.p99)),
            h('td', { class: 'num', dataset: { field: 'errors', value: r.errors ?? '' } }, r.errors === null ? '–' : num(r.errors)),
            h('td', { class: 'num', dataset: { field: 'error-rate', value: r.errorRate ?? '' } }, r.errorRate === null ? '–' : pct(r.errorRate)),
          ),
        )
      : [h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No calls this period yet.'))]),
  );
}

function renderAlerts() {
  const list = $('alerts');
  const err = state.data.alertsError;
  let alerts = alertList(state.data.alerts);
  if (state.alertsUnreadOnly) alerts = alerts.filter((a) => !a.is_read);
  const hadFocus = list.contains(document.activeElement) ? document.activeElement.closest('li')?.dataset.alertId : null;
  list.replaceChildren(
    ...alerts.map((a) => {
      const titleId = `alert-${a.alert_id}-title`;
      return h(
        'li',
        { class: 'alert', dataset: { alertId: a.alert_id, read: Boolean(a.is_read), severity: a.severity ?? 'info', limit: a.limit ?? '', threshold: a.threshold ?? '' }, 'aria-labelledby': titleId },
        h('span', { class: 'sev', dataset: { severity: a.severity ?? 'info' } }, a.severity ?? 'info'),
        h('div', {}, h('p', { class: 'alert-title', id: titleId }, a.title ?? limitName(a.limit ?? '')), h('p', { class: 'alert-message' }, a.message ?? ''), h('p', { class: 'alert-time' }, `${dateTime(a.created_at)}${a.is_read ? ' · read' : ' · unread'}`)),
        a.is_read ? h('span', { class: 'sr-only' }, 'Read') : h('button', { type: 'button', class: 'btn btn-small mark-read', 'aria-describedby': titleId, onclick: () => markRead(a.alert_id) }, 'Mark read'),
      );
    }),
  );
  const unread = alertList(state.data.alerts).filter((a) => !a.is_read).length;
  $('mark-all-read').disabled = unread === 0;
  setText('alerts-empty', err ? `Alerts are not available: ${err.message}` : state.alertsUnreadOnly ? 'No unread alerts.' : 'No alerts.');
  show('alerts-empty', alerts.length === 0);
  if (hadFocus) {
    const again = list.querySelector(`li[data-alert-id="${CSS.escape(hadFocus)}"] button`) ?? list.querySelector('button') ?? $('mark-all-read');
    again.focus();
  }
}

async function markRead(alertId) {
  try {
    await api.markRead(alertId);
    const a = alertList(state.data.alerts).find((x) => x.alert_id === alertId);
    if (a) a.is_read = true;
    state.rendered.delete('alerts');
    state.rendered.delete('compact');
    renderAll();
    void refresh();
  } catch (err) {
    if (err.kind === 'unauthorized') return signOut(explain(err));
    banner(`Could not mark the alert read: ${explain(err)}`);
  }
}

async function markAllRead() {
  const unread = alertList(state.data.alerts).filter((a) => !a.is_read);
  try {
    try {
      await api.markAllRead(state.userId);
    } catch (err) {
      // No bulk route on this server: mark them one by one.
      if (err.kind !== 'not_found' && err.status !== 405) throw err;
      for (const a of unread) await api.markRead(a.alert_id);
    }
    for (const a of unread) a.is_read = true;
    state.rendered.delete('alerts');
    state.rendered.delete('compact');
    renderAll();
    void refresh();
  } catch (err) {
    if (err.kind === 'unauthorized') return signOut(explain(err));
    banner(`Could not mark the alerts read: ${explain(err)}`);
  }
}

function logQuery() {
  const f = state.log.filters;
  const cursor = state.log.cursors[state.log.page];
  return { limit: LOG_PAGE_SIZE, cursor: cursor ?? undefined, provider: f.provider || undefined, status: f.status || undefined, model: f.model || undefined };
}

function logMatches(item) {
  const f = state.log.filters;
  if (f.provider && item.provider !== f.provider) return false;
  if (f.status) {
    const outcome = item.outcome ?? (item.kind === 'refused' ? 'refused' : Number(item.status) < 400 ? 'ok' : 'error');
    if (outcome !== f.status) return false;
  }
  if (f.model && String(item.model ?? '') !== f.model) return false;
  return true;
}

function renderLogs() {
  const err = state.data.logsError;
  const page = logPage(state.data.logs);
  // The server filters; the page checks again so a filter is never shown wrongly.
  const items = page.items.filter(logMatches);
  $('log-table').tBodies[0].replaceChildren(
    ...items.map((it) =>
      h(
        'tr',
        { dataset: { id: it.id, provider: it.provider } },
        h('td', {}, dateTime(it.occurred_at)),
        h('td', {}, chip(it.provider)),
        h('td', {}, it.model ?? '–', it.kind === 'refused' || it.outcome === 'refused' ? h('span', { class: 'tag tag-refused', title: it.limit ? `Refused before it reached the provider: ${limitName(it.limit)} limit` : 'Refused before it reached the provider' }, 'refused') : null, it.price_source === 'fallback' ? h('span', { class: 'tag', title: 'Priced by the provider\u2019s fallback price: the catalog does not know this model' }, 'fallback price') : null, it.estimated ? h('span', { class: 'tag', title: 'Token counts estimated: the provider did not report them' }, 'estimated') : null),
        h('td', { class: 'num' }, num(it.input_tokens)),
        h('td', { class: 'num' }, num(it.output_tokens)),
        h('td', { class: 'num', title: it.cost_exact ? `Exact: ${it.cost_exact} USD` : undefined, dataset: { value: it.cost ?? '' } }, usd(it.cost)),
        h('td', { class: 'num' }, it.latency_ms === null || it.latency_ms === undefined ? '–' : ms(it.latency_ms)),
        h('td', { class: 'num status-code', dataset: { ok: Number(it.status) < 400 } }, it.status ?? '–'),
      ),
    ),
  );
  setText('log-empty', err ? `The usage log is not available: ${err.message}` : 'No calls match.');
  show('log-empty', items.length === 0);
  $('log-prev').disabled = state.log.page === 0;
  $('log-next').disabled = !page.next;
  setText('log-page', `Page ${state.log.page + 1}`);
}

function renderTrends() {
  const err = state.data.trendsError;
  const series = trendSeries(state.data.trends);
  const metric = state.trend.metric;
  const total = series.buckets.reduce((a, b) => a + (b.total[metric] ?? 0), 0);
  setText('trend-meta', err ? `The trend is not available: ${err.message}` : series.buckets.length ? `${series.buckets.length} ${state.trend.granularity === 'month' ? 'months' : 'days'} from ${state.trend.granularity === 'month' ? month(series.buckets[0].start) : date(series.buckets[0].start)}; total ${metric === 'cost' ? usd(total) : `${num(total)} ${metric}`}` : 'No data yet.');
  $('chart-trends').setAttribute('aria-label', `${metric} per ${state.trend.granularity} and provider over six months; total ${metric === 'cost' ? usd(total) : num(total)}`);
  if (chartsAvailable()) trendsChart(series, metric, state.trend.granularity);
}

function renderBilling() {
  const err = state.data.billingError;
  const rows = billingRows(state.data.billing);
  $('billing-table').tBodies[0].replaceChildren(
    ...rows.map((r) =>
      h(
        'tr',
        { dataset: { id: r.id } },
        h('td', {}, periodRange(r.periodStart, r.periodEnd)),
        h('td', {}, r.plan ?? '–'),
        h('td', { class: 'num' }, usd(r.baseFee)),
        h('td', { class: 'num' }, usd(r.usageCost)),
        h('td', { class: 'num' }, h('strong', {}, usd(r.total))),
        h('td', {}, r.status),
      ),
    ),
  );
  setText('billing-empty', err ? `Billing history is not available: ${err.message}` : 'No closed periods yet.');
  show('billing-empty', rows.length === 0);
}

function renderHealth(ready) {
  const el = $('health');
  if (!ready) return;
  if (ready.unreachable) {
    el.dataset.state = 'down';
    setText('health-text', 'Tollgate unreachable');
  } else if (ready.ok) {
    el.dataset.state = 'ready';
    setText('health-text', 'Tollgate healthy');
  } else {
    el.dataset.state = 'degraded';
    const failing = Object.entries(ready.body?.checks ?? {}).filter(([, c]) => !c.ok).map(([k]) => k.replace(/_/g, ' '));
    setText('health-text', `Tollgate degraded${failing.length ? `: ${failing.join(', ')}` : ` (HTTP ${ready.status})`}`);
  }
}

// ---------------------------------------------------------------- events

function bind() {
  $('signin-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const key = $('key-input').value.trim();
    if (!key) {
      setText('signin-error', 'Enter a Tollgate key.');
      return;
    }
    void signIn(key);
  });
  $('picker-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const typed = $('user-input').value.trim();
    const picked = typed || $('user-select').value;
    if (!picked) {
      banner('Pick a user or type a user id.', 'info');
      return;
    }
    openBoard(picked);
  });
  $('sign-out').addEventListener('click', () => signOut());
  $('tab-compact').addEventListener('click', () => selectView('compact'));
  $('tab-detailed').addEventListener('click', () => selectView('detailed'));
  $('view-compact').parentElement.querySelector('[role="tablist"]').addEventListener('keydown', (e) => {
    if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key)) return;
    e.preventDefault();
    const next = e.key === 'Home' ? 'compact' : e.key === 'End' ? 'detailed' : state.view === 'compact' ? 'detailed' : 'compact';
    selectView(next);
  });
  $('mark-all-read').addEventListener('click', () => markAllRead());
  $('alerts-unread-only').addEventListener('change', (e) => {
    state.alertsUnreadOnly = e.target.checked;
    renderAll();
  });
  $('log-filters').addEventListener('submit', (e) => {
    e.preventDefault();
    state.log = { cursors: [null], page: 0, filters: { provider: $('log-provider').value, status: $('log-status').value, model: $('log-model').value.trim() } };
    state.data.logs = null;
    void refresh();
  });
  $('log-next').addEventListener('click', () => {
    const next = logPage(state.data.logs).next;
    if (!next) return;
    state.log.cursors[state.log.page + 1] = next;
    state.log.page++;
    void refresh();
  });
  $('log-prev').addEventListener('click', () => {
    if (state.log.page === 0) return;
    state.log.page--;
    void refresh();
  });
  for (const input of document.querySelectorAll('input[name="granularity"]')) {
    input.addEventListener('change', (e) => {
      state.trend.granularity = e.target.value;
      state.trend.fetchedAt = 0;
      void refresh();
    });
  }
  $('trend-metric').addEventListener('change', (e) => {
    state.trend.metric = e.target.value;
    renderAll();
  });
  // Tooltips: each "?" button names its text with aria-describedby (read by screen readers); the text shows on
  // hover, on focus and on click (touch), and Escape hides it.
  const tipOf = (el) => (el?.classList?.contains('tip') ? document.getElementById(el.getAttribute('aria-describedby')) : null);
  const hideTips = () => document.querySelectorAll('.tip-text.open').forEach((t) => t.classList.remove('open'));
  for (const type of ['mouseover', 'focusin']) document.addEventListener(type, (e) => {
    const tip = tipOf(e.target.closest?.('.tip'));
    if (!tip) return;
    hideTips();
    tip.classList.add('open');
  });
  for (const type of ['mouseout', 'focusout']) document.addEventListener(type, (e) => {
    const tip = tipOf(e.target.closest?.('.tip'));
    if (tip && !(type === 'mouseout' && document.activeElement === e.target)) tip.classList.remove('open');
  });
  document.addEventListener('click', (e) => {
    const tip = tipOf(e.target.closest?.('.tip'));
    if (tip) tip.classList.add('open');
  });
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') hideTips();
  });
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.userId) void refresh();
  });
}

bind();
startHealthChecks();
if (state.key) void signIn(state.key, { restoring: true });
else showSignIn();
