/**
 * `keel keys|kill|unkill|audit|config` — edge control through the running gateway's admin API
 * (`--url`, `Authorization: Bearer $KEEL_ADMIN_KEY`). `--who` (default $USER) is sent as
 * x-keel-actor and lands in the audit log.
 */
import { Argument, type Command, InvalidArgumentError } from 'commander';
import type { ConfigVersion, ConfigVersionSummary } from '../config/versions.ts';
import type { AuditEntry, KillSwitch } from '../edge/control-store/types.ts';
import type { KeyListing, KeyRecord } from '../edge/keys/keys.ts';
import { table } from './traces.ts';

export interface ControlConn {
  url: string;
  who?: string | undefined;
  json?: boolean | undefined;
}

const SCOPES = ['route', 'target', 'tool', 'feature'];

/** One admin API call; a non-2xx answer becomes an Error with the gateway's message. */
export async function adminCall<T>(
  conn: ControlConn,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<T> {
  const headers: Record<string, string> = {};
  if (process.env.KEEL_ADMIN_KEY) headers.authorization = `Bearer ${process.env.KEEL_ADMIN_KEY}`;
  const who = conn.who ?? process.env.USER;
  if (who) headers['x-keel-actor'] = who;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${conn.url.replace(/\/+$/, '')}${path}`, {
      method,
      headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new Error(`cannot reach Keel at ${conn.url} (is it running? pass --url)`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new Error(`${res.status}: the gateway answered with something other than JSON`);
  }
  if (!res.ok) {
    const message = (parsed as { error?: { message?: string } }).error?.message ?? 'request failed';
    throw new Error(`${res.status}: ${message}`);
  }
  return parsed as T;
}

const when = (ms: number | null) =>
  ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19);

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError('must be a positive whole number');
  return n;
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('must be a positive number');
  return n;
}

const DURATION = /^(\d+)(m|h|d|w)$/;
const UNIT: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "2026-01-31", an ISO time, or a duration from now ("30d", "12h") → epoch ms. */
export function parseExpiry(value: string, now = Date.now()): number {
  const d = DURATION.exec(value);
  if (d) return now + Number(d[1]) * UNIT[d[2]!]!;
  const ms = Date.parse(value);
  if (!Number.isFinite(ms)) {
    throw new InvalidArgumentError('a date (2026-01-31), an ISO time, or a duration like 30d or 12h');
  }
  return ms;
}

function limits(k: KeyRecord): string {
  const parts: string[] = [];
  if (k.rpm !== null) parts.push(`${k.rpm} rpm`);
  if (k.tpm !== null) parts.push(`${k.tpm} tpm`);
  if (k.budgetUsd !== null) parts.push(`$${k.budgetUsd}/${k.budgetPeriod ?? 'month'}`);
  return parts.length === 0 ? '-' : parts.join(', ');
}

export function renderKeys(keys: KeyListing[]): string {
  if (keys.length === 0) return 'no keys (create one: keel keys create --name NAME)';
  return table(
    ['id', 'name', 'key', 'status', 'routes', 'limits', 'expires', 'created'],
    keys.map((k) => [
      k.id,
      k.name,
      k.prefix,
      k.status,
      k.routes === null ? 'all' : k.routes.join(','),
      limits(k),
      when(k.expiresAt),
      when(k.createdAt),
    ]),
  );
}

export function renderKills(kills: KillSwitch[]): string {
  if (kills.length === 0) return 'no kill switches are on';
  return table(
    ['scope', 'name', 'since', 'who', 'reason'],
    kills.map((k) => [k.scope, k.name, when(k.at), k.who, k.reason]),
  );
}

export function renderAudit(entries: AuditEntry[]): string {
  if (entries.length === 0) return 'no audit entries in that window';
  const details = (d: unknown) => {
    if (d === null || d === undefined) return '';
    const text = JSON.stringify(d);
    return text.length > 80 ? `${text.slice(0, 79)}…` : text;
  };
  return table(
    ['time', 'who', 'action', 'subject', 'reason', 'details'],
    entries.map((e) => [when(e.at), e.who, e.action, e.subject, e.reason ?? '', details(e.details)]),
  );
}

export function renderVersions(versions: ConfigVersionSummary[]): string {
  if (versions.length === 0) return 'no config versions recorded';
  return table(
    ['version', 'live', 'recorded', 'who', 'hash'],
    versions.map((v) => [String(v.id), v.live ? '*' : '', when(v.at), v.who, v.hash.slice(0, 12)]),
  );
}

function out(conn: ControlConn, value: unknown, text: () => string): void {
  console.log(conn.json ? JSON.stringify(value, null, 2) : text());
}

export function registerControlCommands(program: Command): void {
  const common = (cmd: Command) =>
    cmd
      .option('--url <url>', 'the running gateway', 'http://127.0.0.1:8080')
      .option('--who <name>', 'who you are, for the audit log (default $USER)')
      .option('--json', 'print JSON');

  const keys = program.command('keys').description('virtual API keys: create, list, revoke');

  common(
    keys
      .command('create')
      .description('create a key; it is printed once and cannot be shown again')
      .requiredOption('--name <name>', 'a name for the key (shows in limits, traces and the audit log)')
      .option('--routes <a,b>', 'routes the key may use (default: all)')
      .option('--rpm <n>', 'requests per minute', positiveInt)
      .option('--tpm <n>', 'tokens per minute', positiveInt)
      .option('--budget-usd <usd>', 'spending budget', positiveNumber)
      .option('--per <period>', 'budget period: day | month', 'month')
      .option('--expires <when>', 'a date, an ISO time, or a duration from now like 30d')
      .option('--reason <why>', 'for the audit log'),
  ).action(
    async (
      opts: ControlConn & {
        name: string;
        routes?: string;
        rpm?: number;
        tpm?: number;
        budgetUsd?: number;
        per: string;
        expires?: string;
        reason?: string;
      },
    ) => {
      if (opts.per !== 'day' && opts.per !== 'month') throw new Error('--per must be day or month');
      const body = {
        name: opts.name,
        ...(opts.routes !== undefined
          ? {
              routes: opts.routes
                .split(',')
                .map((r) => r.trim())
                .filter(Boolean),
            }
          : {}),
        ...(opts.rpm !== undefined ? { rpm: opts.rpm } : {}),
        ...(opts.tpm !== undefined ? { tpm: opts.tpm } : {}),
        ...(opts.budgetUsd !== undefined ? { budgetUsd: opts.budgetUsd, budgetPeriod: opts.per } : {}),
        ...(opts.expires !== undefined ? { expiresAt: parseExpiry(opts.expires) } : {}),
        ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
      };
      const created = await adminCall<{ key: KeyRecord; secret: string; warning: string }>(
        opts,
        'POST',
        '/admin/keys',
        body,
      );
      if (opts.json) {
        console.log(JSON.stringify(created, null, 2));
        console.error('warning: this is the only time the key is shown; store it now');
        return;
      }
      const k = created.key;
      console.log(`created key "${k.name}" (${k.id})`);
      console.log(`  routes: ${k.routes === null ? 'all' : k.routes.join(', ')}`);
      console.log(`  limits: ${limits(k)}`);
      console.log(`  expires: ${when(k.expiresAt)}`);
      console.log('');
      console.log(created.secret);
      console.log('');
      console.error(
        'warning: this is the only time the key is shown: store it now; Keel keeps only its hash',
      );
    },
  );

  common(keys.command('list').description('every key with its status (never the secret)')).action(
    async (opts: ControlConn) => {
      const { keys: list } = await adminCall<{ keys: KeyListing[] }>(opts, 'GET', '/admin/keys');
      out(opts, list, () => renderKeys(list));
    },
  );

  common(
    keys
      .command('revoke <idOrName>')
      .description('revoke a key by id or name; it stops working within a second')
      .option('--reason <why>', 'for the audit log'),
  ).action(async (idOrName: string, opts: ControlConn & { reason?: string }) => {
    const query = opts.reason !== undefined ? `?reason=${encodeURIComponent(opts.reason)}` : '';
    const { key } = await adminCall<{ key: KeyListing }>(
      opts,
      'DELETE',
      `/admin/keys/${encodeURIComponent(idOrName)}${query}`,
    );
    out(opts, key, () => `revoked key "${key.name}" (${key.id}, ${key.prefix})`);
  });

  common(
    program
      .command('kill')
      .description('turn a route, target, tool or feature off now (no arguments: list what is off)')
      .addArgument(new Argument('[scope]', 'what to turn off').choices(SCOPES))
      .argument('[name]', 'its name (a route or target must exist in the running config)')
      .option('--reason <why>', 'required: why, for the audit log'),
  ).action(
    async (scope: string | undefined, name: string | undefined, opts: ControlConn & { reason?: string }) => {
      if (scope === undefined) {
        const { kills } = await adminCall<{ kills: KillSwitch[] }>(opts, 'GET', '/admin/kill');
        out(opts, kills, () => renderKills(kills));
        return;
      }
      if (name === undefined)
        throw new Error(`name the ${scope} to kill: keel kill ${scope} NAME --reason "..."`);
      if (opts.reason === undefined || opts.reason.trim() === '') {
        throw new Error('--reason is required: say why, it goes to the audit log');
      }
      const { kill } = await adminCall<{ kill: KillSwitch }>(opts, 'POST', '/admin/kill', {
        scope,
        name,
        reason: opts.reason,
      });
      out(opts, kill, () => `killed ${kill.scope} "${kill.name}": ${kill.reason}`);
    },
  );

  common(
    program
      .command('unkill')
      .description('turn a killed route, target, tool or feature back on')
      .addArgument(new Argument('<scope>', 'route | target | tool | feature').choices(SCOPES))
      .argument('<name>')
      .option('--reason <why>', 'for the audit log'),
  ).action(async (scope: string, name: string, opts: ControlConn & { reason?: string }) => {
    const { unkilled } = await adminCall<{ unkilled: KillSwitch }>(opts, 'POST', '/admin/unkill', {
      scope,
      name,
      ...(opts.reason !== undefined ? { reason: opts.reason } : {}),
    });
    out(
      opts,
      unkilled,
      () => `${unkilled.scope} "${unkilled.name}" is back on (was killed by ${unkilled.who})`,
    );
  });

  common(
    program
      .command('audit')
      .description('who changed keys, kill switches and config, when and why (newest first)')
      .option('--since <when>', 'epoch ms, ISO time, or a window like 1h', '24h')
      .option('--limit <n>', 'at most 1000', '100'),
  ).action(async (opts: ControlConn & { since: string; limit: string }) => {
    const params = new URLSearchParams({ since: opts.since, limit: opts.limit });
    const { entries } = await adminCall<{ entries: AuditEntry[] }>(opts, 'GET', `/admin/audit?${params}`);
    out(opts, entries, () => renderAudit(entries));
  });

  const config = program.command('config').description('config versions applied by the running gateway');

  common(config.command('versions').description('versions, newest first; * marks the live one')).action(
    async (opts: ControlConn) => {
      const { versions } = await adminCall<{ versions: ConfigVersionSummary[] }>(
        opts,
        'GET',
        '/admin/config/versions',
      );
      out(opts, versions, () => renderVersions(versions));
    },
  );

  common(config.command('show <version>').description("one version's YAML")).action(
    async (version: string, opts: ControlConn) => {
      const v = await adminCall<ConfigVersion>(
        opts,
        'GET',
        `/admin/config/versions/${encodeURIComponent(version)}`,
      );
      out(opts, v, () => v.yaml);
    },
  );

  common(
    config
      .command('rollback [version]')
      .description(
        're-apply a stored version (default: the one before the live one); keel.yaml on disk is not changed',
      )
      .option('--reason <why>', 'for the audit log'),
  ).action(async (version: string | undefined, opts: ControlConn & { reason?: string }) => {
    const body: Record<string, unknown> = {};
    if (version !== undefined) body.version = positiveInt(version);
    if (opts.reason !== undefined) body.reason = opts.reason;
    const result = await adminCall<{ status: string; version?: ConfigVersionSummary }>(
      opts,
      'POST',
      '/admin/config/rollback',
      body,
    );
    out(opts, result, () =>
      result.status === 'unchanged'
        ? `version ${result.version?.id ?? '?'} is already live`
        : `rolled back: version ${result.version?.id ?? '?'} is live (keel.yaml on disk is unchanged: edit it to match, or the next edit replaces this)`,
    );
  });
}
