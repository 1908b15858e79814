/**
 * Admin API for the prompt registry.
 *
 *   POST /admin/prompts                    a prompt: YAML text (content-type application/yaml or
 *                                          text/yaml), `{ "yaml": "…", "file"?: "name.yaml" }`, or the
 *                                          prompt as JSON.
 *                                          201 with the new version, or 200 `unchanged` when the same
 *                                          content is already stored.
 *   GET  /admin/prompts                    every prompt: versions count, latest, labels
 *   GET  /admin/prompts/:ref               NAME, NAME@VERSION or NAME:LABEL: the version (with its YAML)
 *                                          and the prompt's version list
 *   GET  /admin/prompts/:name/diff?a=&b=   unified diff; a and b are @VERSION, :LABEL, a version or a label
 *   POST /admin/prompts/:name/promote      { version, label? = production, reason? }
 *   POST /admin/prompts/:name/rollback     { label? = production, reason? }: the label's previous step
 *   GET  /admin/prompts/:name/history      label moves, newest first (?label= for one label)
 *
 * Every route is behind `guard`. Who did it comes from x-keel-actor (see control-admin.ts).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { KeelError } from '../core/errors.ts';
import type { AuditLog } from '../edge/audit/audit.ts';
import { promptYaml } from '../prompts/diff.ts';
import { DEFAULT_LABEL } from '../prompts/ref.ts';
import type { PromptRegistry } from '../prompts/registry.ts';
import type { PromptVersion } from '../prompts/store.ts';
import { actorOf } from './control-admin.ts';
import { parseBody } from './schemas.ts';

export interface PromptAdminOptions {
  registry: PromptRegistry;
  /** Refuses a request that may not use the admin API (throw a KeelError). */
  guard: (request: FastifyRequest) => void | Promise<void>;
  /** When given, pushes and label moves are also written to the audit log. */
  audit?: Pick<AuditLog, 'append'> | undefined;
}

const YAML_TYPES = ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'];

const reason = z.string().trim().min(1).max(500);
const label = z.string().min(1).max(64);
const promoteBody = z.strictObject({
  version: z.string().min(1).max(64),
  label: label.default(DEFAULT_LABEL),
  reason: reason.optional(),
});
const rollbackBody = z.strictObject({ label: label.default(DEFAULT_LABEL), reason: reason.optional() });
const diffQuery = z.strictObject({ a: z.string().min(1).max(100), b: z.string().min(1).max(100) });
const historyQuery = z.strictObject({ label: label.optional() });

/** Labels pointing at each version: version → labels. */
function labelsByVersion(labels: Record<string, string>): Map<string, string[]> {
  const by = new Map<string, string[]>();
  for (const [name, version] of Object.entries(labels)) by.set(version, [...(by.get(version) ?? []), name]);
  return by;
}

function summary(v: PromptVersion, labels: Map<string, string[]>) {
  return {
    name: v.name,
    version: v.version,
    seq: v.seq,
    createdAt: v.createdAt,
    createdBy: v.createdBy,
    goodAt: v.goodAt,
    labels: labels.get(v.version) ?? [],
  };
}

const yamlBody = z.strictObject({
  yaml: z.string(),
  /** The file it came from, so errors can name it. */
  file: z.string().min(1).max(200).optional(),
});

function pushInput(body: unknown): { input: unknown; source?: string } {
  if (typeof body === 'string') return { input: body };
  if (body !== null && typeof body === 'object' && !Array.isArray(body) && 'yaml' in body) {
    const parsed = parseBody<z.infer<typeof yamlBody>>(yamlBody, body);
    return { input: parsed.yaml, ...(parsed.file !== undefined ? { source: parsed.file } : {}) };
  }
  if (body === undefined || body === null) {
    throw new KeelError('KEEL_INVALID_REQUEST', 'request body: send a prompt as YAML text or JSON');
  }
  return { input: body };
}

export function registerPromptAdmin(app: FastifyInstance, options: PromptAdminOptions): void {
  const { registry, guard, audit } = options;
  const onRequest = async (request: FastifyRequest) => {
    await guard(request);
  };

  // Encapsulated, so the YAML body parser exists for these routes only (the gateway is JSON-only).
  void app.register(async (scope) => {
    scope.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_request, body, done) => done(null, body));

    scope.post('/admin/prompts', { onRequest }, async (request, reply) => {
      const { input, source } = pushInput(request.body);
      const who = actorOf(request);
      const { version, created } = await registry.push(input, { who, ...(source ? { source } : {}) });
      if (created) {
        await audit?.append({
          who,
          action: 'prompt.push',
          subject: `prompt:${version.name}@${version.version}`,
        });
      }
      const labels = labelsByVersion(await registry.labels(version.name));
      reply.code(created ? 201 : 200);
      return { status: created ? 'created' : 'unchanged', prompt: summary(version, labels) };
    });

    scope.get('/admin/prompts', { onRequest }, async () => ({ prompts: await registry.list() }));

    scope.get('/admin/prompts/:ref', { onRequest }, async (request) => {
      const { ref } = request.params as { ref: string };
      const resolved = await registry.resolve(ref, { fresh: true });
      const name = resolved.version.name;
      const [versions, labels] = await Promise.all([registry.versions(name), registry.labels(name)]);
      const by = labelsByVersion(labels);
      return {
        prompt: {
          ...summary(resolved.version, by),
          resolvedBy: resolved.label,
          body: resolved.version.body,
          yaml: promptYaml(resolved.version),
        },
        versions: versions.map((v) => summary(v, by)).reverse(),
      };
    });

    scope.get('/admin/prompts/:name/diff', { onRequest }, async (request) => {
      const { name } = request.params as { name: string };
      const query = parseBody<z.infer<typeof diffQuery>>(diffQuery, request.query);
      const result = await registry.diff(name, query.a, query.b);
      const side = (r: typeof result.a) => ({
        version: r.version.version,
        seq: r.version.seq,
        label: r.label,
      });
      return { a: side(result.a), b: side(result.b), identical: result.diff === '', diff: result.diff };
    });

    scope.post('/admin/prompts/:name/promote', { onRequest }, async (request) => {
      const { name } = request.params as { name: string };
      const body = parseBody<z.infer<typeof promoteBody>>(promoteBody, request.body);
      const who = actorOf(request);
      const event = await registry.promote(name, body.version, body.label, { who, reason: body.reason });
      if (!event) return { status: 'unchanged', label: body.label, version: body.version };
      await audit?.append({
        who,
        action: 'prompt.promote',
        subject: `prompt:${name}:${body.label}`,
        reason: body.reason,
        details: { version: event.version, previous: event.previous },
      });
      return {
        status: 'promoted',
        label: event.label,
        version: event.version,
        previous: event.previous,
        event,
      };
    });

    scope.post('/admin/prompts/:name/rollback', { onRequest }, async (request) => {
      const { name } = request.params as { name: string };
      const body = parseBody<z.infer<typeof rollbackBody>>(rollbackBody, request.body ?? {});
      const who = actorOf(request);
      const event = await registry.rollback(name, body.label, { who, reason: body.reason });
      await audit?.append({
        who,
        action: 'prompt.rollback',
        subject: `prompt:${name}:${body.label}`,
        reason: body.reason,
        details: { version: event.version, previous: event.previous },
      });
      return {
        status: 'rolled back',
        label: event.label,
        version: event.version,
        previous: event.previous,
        event,
      };
    });

    scope.get('/admin/prompts/:name/history', { onRequest }, async (request) => {
      const { name } = request.params as { name: string };
      const query = parseBody<z.infer<typeof historyQuery>>(historyQuery, request.query);
      return { events: await registry.history(name, query.label) };
    });
  });
}
