import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { KeelError, toOpenAIError } from '../../../src/core/errors.ts';
import { AuditLog } from '../../../src/edge/audit/audit.ts';
import { MemoryControlStore } from '../../../src/edge/control-store/memory.ts';
import { Keys, keyLimits } from '../../../src/edge/keys/keys.ts';

function setup(ttl = 1000) {
  let now = 1_700_000_000_000;
  const clock = { now: () => now };
  const store = new MemoryControlStore();
  const audit = new AuditLog(store, clock);
  const keys = new Keys(store, audit, { clock, cacheTtlMs: ttl });
  return {
    store,
    audit,
    keys,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

async function refusal(p: Promise<unknown>): Promise<KeelError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof KeelError, `expected a KeelError, got ${String(err)}`);
    return err;
  }
  assert.fail('the request was accepted');
}

function refusedSync(fn: () => void): KeelError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof KeelError);
    return err;
  }
  assert.fail('the request was accepted');
}

describe('virtual keys', () => {
  test('a created key is sk-keel- + 32 random bytes, returned once, with a display prefix', async () => {
    const { keys } = setup();
    const { key, secret } = await keys.createKey({ name: 'app' }, { who: 'ann' });
    assert.match(secret, /^sk-keel-[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(secret.slice(8), 'base64url').length, 32);
    assert.equal(key.prefix, `${secret.slice(0, 12)}…`);
    assert.match(key.id, /^key_[0-9a-f]{16}$/);
    assert.equal(key.routes, null);
    const listed = await keys.listKeys();
    assert.equal(listed.length, 1);
    assert.equal(listed[0]?.status, 'active');
    const text = JSON.stringify(listed);
    assert.ok(!text.includes(secret.slice(8)), 'listKeys leaks the secret');
    assert.ok(!('hash' in listed[0]!), 'listKeys leaks the hash');
    const again = await keys.createKey({ name: 'other' });
    assert.notEqual(again.secret, secret);
  });

  test('the auth matrix: 401 missing/bad/unknown/revoked/expired, 403 wrong route, ok otherwise', async () => {
    const { keys, advance, now } = setup();
    const good = await keys.createKey({ name: 'good', routes: ['chat'] });
    const revoked = await keys.createKey({ name: 'revoked' });
    const expiring = await keys.createKey({ name: 'expiring', expiresAt: now() + 60_000 });
    await keys.revokeKey('revoked', { who: 'ann' });
    advance(60_000);

    const missing = await refusal(keys.authenticate(undefined));
    const empty = await refusal(keys.authenticate('Bearer '));
    const basic = await refusal(keys.authenticate('Basic abc'));
    for (const e of [missing, empty, basic]) {
      assert.equal(e.status, 401);
      assert.match(e.message, /missing API key/);
    }

    const bad = await refusal(keys.authenticate('Bearer not-a-keel-key'));
    const unknown = await refusal(keys.authenticate(`Bearer sk-keel-${'A'.repeat(43)}`));
    const wasRevoked = await refusal(keys.authenticate(`Bearer ${revoked.secret}`));
    const expired = await refusal(keys.authenticate(`Bearer ${expiring.secret}`));
    for (const e of [bad, unknown, wasRevoked, expired]) {
      assert.equal(e.status, 401);
      assert.equal(e.code, 'KEEL_UNAUTHORIZED');
      assert.equal(e.type, 'authentication_error');
    }
    // One message for unknown, revoked and expired: no hint which keys exist.
    assert.deepEqual(
      new Set([bad, unknown, wasRevoked, expired].map((e) => JSON.stringify(toOpenAIError(e)))).size,
      1,
    );

    const record = await keys.authenticate(`Bearer ${good.secret}`);
    assert.equal(record.name, 'good');
    assert.equal((await keys.authenticate(`bearer  ${good.secret} `)).id, record.id);
    keys.authorize(record, 'chat');
    const forbidden = refusedSync(() => keys.authorize(record, 'secret-route'));
    assert.equal(forbidden.status, 403);
    assert.equal(forbidden.type, 'permission_error');
    assert.match(forbidden.message, /"secret-route"/);
    assert.ok(!forbidden.message.includes('chat'), 'the 403 names other routes');
    // A key without a route list may use any route.
    keys.authorize({ routes: null }, 'anything');
  });

  test('a revocation takes effect on the next request in this process, and within the TTL elsewhere', async () => {
    const { store, audit, keys, advance, now } = setup(1000);
    const { secret } = await keys.createKey({ name: 'app' });
    const replica = new Keys(store, audit, { clock: { now }, cacheTtlMs: 1000 });
    await keys.authenticate(`Bearer ${secret}`);
    await replica.authenticate(`Bearer ${secret}`); // cached on the replica now
    await keys.revokeKey('app', { who: 'ann', reason: 'leaked' });
    assert.equal((await refusal(keys.authenticate(`Bearer ${secret}`))).status, 401);
    // The other replica still trusts its cache for under a second...
    advance(500);
    await replica.authenticate(`Bearer ${secret}`);
    // ...and not after.
    advance(501);
    assert.equal((await refusal(replica.authenticate(`Bearer ${secret}`))).status, 401);
  });

  test('a lookup in flight when the key is revoked does not cache the stale answer', async () => {
    const store = new MemoryControlStore();
    const audit = new AuditLog(store);
    let hold: Promise<void> | undefined;
    const slow = {
      insertKey: store.insertKey.bind(store),
      findKey: store.findKey.bind(store),
      listKeys: store.listKeys.bind(store),
      revokeKey: store.revokeKey.bind(store),
      findKeyByHash: async (hash: string) => {
        const found = await store.findKeyByHash(hash);
        await hold;
        return found;
      },
    };
    const keys = new Keys(slow, audit, { cacheTtlMs: 60_000 });
    const { secret } = await keys.createKey({ name: 'app' });
    let release = () => {};
    hold = new Promise((r) => (release = r));
    const inFlight = keys.authenticate(`Bearer ${secret}`); // reads "active"...
    await new Promise((r) => setImmediate(r));
    await keys.revokeKey('app'); // ...the key is revoked...
    release();
    await inFlight; // ...the request that was already in flight passes,
    hold = undefined;
    await refusal(keys.authenticate(`Bearer ${secret}`)); // but the next one does not.
  });

  test('expiry is exact even for a cached key', async () => {
    const { keys, advance, now } = setup(60_000);
    const { secret } = await keys.createKey({ name: 'app', expiresAt: now() + 100 });
    await keys.authenticate(`Bearer ${secret}`);
    advance(100);
    await refusal(keys.authenticate(`Bearer ${secret}`));
  });

  test('create validates its input; one active key per name; revoke by id or name, 404 otherwise', async () => {
    const { keys, now } = setup();
    const invalid = async (input: Parameters<Keys['createKey']>[0], param: string) => {
      const e = await refusal(keys.createKey(input));
      assert.equal(e.status, 400);
      assert.equal(e.param, param);
    };
    await invalid({ name: '' }, 'name');
    await invalid({ name: 'key_abc' }, 'name');
    await invalid({ name: 'has space' }, 'name');
    await invalid({ name: 'a', routes: [] }, 'routes');
    await invalid({ name: 'a', rpm: 0 }, 'rpm');
    await invalid({ name: 'a', tpm: 1.5 }, 'tpm');
    await invalid({ name: 'a', budgetUsd: -1 }, 'budgetUsd');
    await invalid({ name: 'a', budgetPeriod: 'day' }, 'budgetPeriod');
    await invalid({ name: 'a', expiresAt: now() - 1 }, 'expiresAt');
    await invalid({ name: 'a', expiresAt: 'soon' }, 'expiresAt');

    const { key } = await keys.createKey({ name: 'a', budgetUsd: 10, rpm: 5 });
    assert.equal(key.budgetPeriod, 'month');
    assert.deepEqual(keyLimits(key), {
      name: 'a',
      rpm: 5,
      tpm: undefined,
      budgetUsd: 10,
      budgetPeriod: 'month',
    });
    await invalid({ name: 'a' }, 'name');
    assert.equal((await keys.revokeKey(key.id)).revokedAt !== null, true);
    await keys.createKey({ name: 'a' }); // the name is free again
    const missing = await refusal(keys.revokeKey('nope'));
    assert.equal(missing.status, 404);
  });

  test('create and revoke are audited with who, when, what and why; never the secret', async () => {
    const { keys, audit, now } = setup();
    const { key, secret } = await keys.createKey(
      { name: 'app', routes: ['chat'] },
      { who: 'ann', reason: 'new app' },
    );
    await keys.revokeKey(key.id, { who: 'bob', reason: 'leaked' });
    await keys.revokeKey(key.id, { who: 'bob' }); // already revoked: not audited again
    const entries = await audit.list();
    assert.deepEqual(
      entries.map((e) => [e.action, e.who, e.subject, e.reason, e.at]),
      [
        ['key.revoke', 'bob', key.id, 'leaked', now()],
        ['key.create', 'ann', key.id, 'new app', now()],
      ],
    );
    assert.deepEqual((entries[1]?.details as { routes: string[] } | undefined)?.routes, ['chat']);
    assert.ok(!JSON.stringify(entries).includes(secret.slice(8)));
  });
});
