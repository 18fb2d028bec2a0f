// Reads the shipped Grafana dashboard (deploy/grafana/scanopy-metrics.json) and turns its
// queries into PromQL that Prometheus runs as it is: the dashboard's variables substituted the way
// Grafana does for a Prometheus data source. Used by `npm run demo` (links to the key queries)
// and by the test that runs every query against a real Prometheus.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The repository (this file is compiled to build/demo/). */
export const REPO = path.resolve(__dirname, '..', '..');
export const DASHBOARD_FILE = path.join(REPO, 'deploy', 'grafana', 'scanopy-metrics.json');
export const RULE_FILES = [
  path.join(REPO, 'deploy', 'rules', 'scanopy-metrics.rules.yml'),
  path.join(REPO, 'deploy', 'rules', 'scanopy-metrics.alerts.yml'),
];

export interface DashboardTarget {
  expr: string;
  refId: string;
  legendFormat?: string;
}

export interface DashboardPanel {
  id: number;
  type: string;
  title: string;
  targets?: DashboardTarget[];
}

export interface DashboardVariable {
  type: string;
  name: string;
  query?: string | { query: string };
  allValue?: string;
}

export interface Dashboard {
  uid: string;
  title: string;
  panels: DashboardPanel[];
  templating: { list: DashboardVariable[] };
}

export function readDashboard(file = DASHBOARD_FILE): Dashboard {
  return JSON.parse(readFileSync(file, 'utf8')) as Dashboard;
}

/** The PromQL of a query variable (`label_values(...)`). */
export function variableQuery(variable: DashboardVariable): string | undefined {
  return typeof variable.query === 'string' ? variable.query : variable.query?.query;
}

/** A variable's value: 'All' (its allValue) or one or more values. */
export type Selection = 'All' | string[];

/** Grafana's regex formatting of a Prometheus variable: escaped values, several as (a|b). */
function formatValue(variable: DashboardVariable, selection: Selection): string {
  if (selection === 'All') return variable.allValue ?? '.*';
  const escaped = selection.map((v) => v.replace(/[\\^$*+?.()|[\]{}]/g, '\\\\$&'));
  return escaped.length === 1 ? escaped[0] : `(${escaped.join('|')})`;
}

/**
 * `expr` with `$name`, `${name}` and `[[name]]` replaced for every query variable in
 * `selections` (unset ones: All), and Grafana's `$__rate_interval` and `$__interval` by the
 * given interval.
 */
export function substitute(
  dashboard: Dashboard,
  expr: string,
  selections: Record<string, Selection>,
  interval: string,
): string {
  let out = expr.replace(/\$__rate_interval\b|\$\{__rate_interval\}/g, interval);
  out = out.replace(/\$__interval\b|\$\{__interval\}/g, interval);
  for (const variable of dashboard.templating.list) {
    if (variable.type !== 'query') continue;
    const value = formatValue(variable, selections[variable.name] ?? 'All');
    const name = variable.name;
    out = out
      .replace(new RegExp(`\\$\\{${name}\\}`, 'g'), () => value)
      .replace(new RegExp(`\\[\\[${name}\\]\\]`, 'g'), () => value)
      .replace(new RegExp(`\\$${name}\\b`, 'g'), () => value);
  }
  return out;
}

/** Every panel's queries, rows left out. */
export function panelTargets(
  dashboard: Dashboard,
): { panel: DashboardPanel; target: DashboardTarget }[] {
  return dashboard.panels.flatMap((panel) =>
    (panel.targets ?? []).map((target) => ({ panel, target })),
  );
}
