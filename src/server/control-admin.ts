/**
 * Admin API for edge control: virtual keys, kill switches, the audit log and config versions.
 *
 *   POST   /admin/keys                 create; the answer holds the secret, the only time it is shown
 *   GET    /admin/keys                 list (never secrets or hashes)
 *   DELETE /admin/keys/:id             revoke by id or name (?reason=…)
 *   POST   /admin/kill                 { scope, name, reason }
 *   POST   /admin/unkill               { scope, name, reason? }
 *   GET    /admin/kill                 the switches that are on
 *   GET    /admin/audit                ?since=1h|ISO|epoch-ms&limit=N, newest first
 *   GET    /admin/config/versions      newest first, `live` marks the running one
 *   GET    /admin/config/versions/:id  one version with its YAML
 *   POST   /admin/config/rollback      { version?, reason? }; default: the version before the live one
 *
 * Every route is behind `guard`. Who did it (for the audit log) is the `x-keel-actor` header when it
 * is a plain name, else "admin". The header is self-declared: anyone holding the admin key can send
 * any name. It records intent, it is not an identity check.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ConfigReloader } from '../config/reload.ts';
import { didYouMean } from '../config/suggest.ts';
import { KeelError } from '../core/errors.ts';
import type { AuditLog } from '../edge/audit/audit.ts';
import { KILL_SCOPES, type KillScope } from '../edge/control-store/types.ts';
import { KEY_NAME, type Keys } from '../edge/keys/keys.ts';
import type { KillSwitches } from '../edge/kill/switches.ts';
import { parseWindow } from './admin.ts';
import { gatewayKeyCheck } from './auth.ts';
import { parseBody } from './schemas.ts';

export interface ControlAdminOptions {
  keys: Keys;
  kill: KillSwitches;
  audit: AuditLog;
  /** Absent when the gateway runs the embedded default config (nothing to reload or roll back). */
  reloader?: ConfigReloader | undefined;
  /** Refuses a request that may not use the admin API (throw a KeelError). */
  guard: (request: FastifyRequest) => void | Promise<void>;
  /** Route names of the running config (read per request: they change on reload). */
  knownRoutes(): string[];
  /** Target (model) names of the running config. */
  knownTargets(): string[];
}

/** The guard /admin/traces uses: the admin key when one is set, else loopback clients only. */
export function adminGuard(adminKey: string | undefined): (request: FastifyRequest) => void {
  const check = gatewayKeyCheck(adminKey);
  return (request) => {
    if (check) check(request.headers.authorization);
    else if (!isLoopback(request)) {
      throw new KeelError(
        'KEEL_UNAUTHORIZED',
        'admin endpoints need KEEL_ADMIN_KEY when reached from another host',
      );
    }
  };
}

function isLoopback(request: FastifyRequest): boolean {
  const ip = request.socket.remoteAddress ?? '';
  return ip === '127.0.0.1' || ip === '::1' || ip === '::ffff:127.0.0.1';
}

const ACTOR = /^[A-Za-z0-9._@:+-]{1,64}$/;

/** The audit `who`: the x-keel-actor header when it is a plain name, else "admin". */
export function actorOf(request: FastifyRequest): string {
  const header = request.headers['x-keel-actor'];
  return typeof header === 'string' && ACTOR.test(header) ? header : 'admin';
}

const DURATION = /^(\d+)(s|m|h|d)$/;
const reason = z.string().trim().min(1, 'required: say why').max(500);
const name = z.string().min(1).max(200);
const scope = z.enum(KILL_SCOPES as [KillScope, ...KillScope[]]);

const createKeyBody = z.strictObject({
  name: z.string().regex(KEY_NAME, '1-64 letters, digits, ".", "_", ":" or "-" (not starting with "key_")'),
  routes: z.array(name).min(1, 'list at least one route, or leave routes out for all').max(200).optional(),
  rpm: z.number().int().positive().optional(),
  tpm: z.number().int().positive().optional(),
  budgetUsd: z.number().positive().optional(),
  budgetPeriod: z.enum(['day', 'month']).optional(),
  expiresAt: z
    .union([z.number().int().positive(), z.iso.datetime({ offset: true }), z.iso.date()])
    .optional(),
  reason: reason.optional(),
});
type CreateKeyBody = z.infer<typeof createKeyBody>;

const killBody = z.strictObject({ scope, name, reason });
const unkillBody = z.strictObject({ scope, name, reason: reason.optional() });

const auditQuery = z.strictObject({
  since: z
    .union([
      z.string().regex(/^\d+$/).transform(Number),
      z.iso.datetime({ offset: true }).transform((s) => Date.parse(s)),
      z
        .string()
        .regex(DURATION, 'a time: epoch ms, ISO 8601, or a window like 1h (meaning that long ago)')
        .transform((s) => Date.now() - parseWindow(s)!),
    ])
    .optional(),
  limit: z
    .string()
    .regex(/^\d+$/, 'a whole number')
    .transform(Number)
    .pipe(z.number().min(1).max(1000))
    .optional(),
});

const revokeQuery = z.strictObject({ reason: reason.optional() });
const rollbackBody = z.strictObject({
  version: z.number().int().positive().optional(),
  reason: reason.optional(),
});

function known(kind: string, value: string, names: string[], param: string): void {
  if (!names.includes(value)) {
    throw new KeelError(
      'KEEL_INVALID_REQUEST',
      `${param}: unknown ${kind} "${value.slice(0, 200)}"${didYouMean(value, names)}`,
      {
        param,
      },
    );
  }
}

export function registerControlAdmin(app: FastifyInstance, options: ControlAdminOptions): void {
  const { keys, kill, audit, guard } = options;
  const onRequest = async (request: FastifyRequest) => {
    await guard(request);
  };
  const reloader = () => {
    if (!options.reloader) {
      throw new KeelError('KEEL_UNSUPPORTED', 'config versions need a config file (start with --config)');
    }
    return options.reloader;
  };

  app.post('/admin/keys', { onRequest }, async (request, reply) => {
    const body = parseBody<CreateKeyBody>(createKeyBody, request.body);
    const routes = options.knownRoutes();
    for (const [i, route] of (body.routes ?? []).entries()) known('route', route, routes, `routes[${i}]`);
    const created = await keys.createKey(
      {
        name: body.name,
        routes: body.routes,
        rpm: body.rpm,
        tpm: body.tpm,
        budgetUsd: body.budgetUsd,
        budgetPeriod: body.budgetPeriod,
        expiresAt: body.expiresAt,
      },
      { who: actorOf(request), reason: body.reason },
    );
    reply.code(201);
    return {
      ...created,
      warning: 'store this key now: it is not kept and cannot be shown again',
    };
  });

  app.get('/admin/keys', { onRequest }, async () => ({ keys: await keys.listKeys() }));

  app.delete('/admin/keys/:id', { onRequest }, async (request) => {
    const { id } = request.params as { id: string };
    const query = parseBody<{ reason?: string }>(revokeQuery, request.query);
    const key = await keys.revokeKey(id, { who: actorOf(request), reason: query.reason });
    return { key: { ...key, status: keys.status(key) } };
  });

  app.post('/admin/kill', { onRequest }, async (request) => {
    const body = parseBody<z.infer<typeof killBody>>(killBody, request.body);
    if (body.scope === 'route') known('route', body.name, options.knownRoutes(), 'name');
    if (body.scope === 'target') known('target', body.name, options.knownTargets(), 'name');
    const entry = await kill.kill(body.scope, body.name, { reason: body.reason, who: actorOf(request) });
    return { kill: entry };
  });

  app.post('/admin/unkill', { onRequest }, async (request) => {
    const body = parseBody<z.infer<typeof unkillBody>>(unkillBody, request.body);
    const was = await kill.unkill(body.scope, body.name, { who: actorOf(request), reason: body.reason });
    if (!was) {
      throw new KeelError('KEEL_NOT_FOUND', `${body.scope} "${body.name.slice(0, 200)}" is not killed`, {
        param: 'name',
      });
    }
    return { unkilled: was };
  });

  app.get('/admin/kill', { onRequest }, async () => {
    // Read the store, not only this replica's map, so the answer includes flips made a moment ago elsewhere.
    await kill.refresh();
    return { kills: kill.list() };
  });

  app.get('/admin/audit', { onRequest }, async (request) => {
    const query = parseBody<{ since?: number; limit?: number }>(auditQuery, request.query);
    return { entries: await audit.list(query) };
  });

  app.get('/admin/config/versions', { onRequest }, async () => ({ versions: await reloader().versions() }));

  app.get('/admin/config/versions/:id', { onRequest }, async (request) => {
    const { id } = request.params as { id: string };
    const version = /^\d{1,15}$/.test(id) ? await reloader().version(Number(id)) : undefined;
    if (!version)
      throw new KeelError('KEEL_NOT_FOUND', `no config version "${id.slice(0, 32)}"`, { param: 'id' });
    return version;
  });

  app.post('/admin/config/rollback', { onRequest }, async (request) => {
    const body = parseBody<z.infer<typeof rollbackBody>>(rollbackBody, request.body ?? {});
    const result = await reloader().rollback(body.version, {
      who: actorOf(request),
      ...(body.reason ? { reason: body.reason } : {}),
    });
    // Never the parsed config: interpolation may have put secrets from the environment into it.
    return { status: result.status, version: 'version' in result ? result.version : undefined };
  });
}
