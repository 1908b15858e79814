/**
 * The PromptStore contract: the memory and SQLite stores run this suite unchanged.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PromptNotFoundError, PromptRequestError } from '../../src/prompts/errors.ts';
import { parseRef } from '../../src/prompts/ref.ts';
import { resolveRef } from '../../src/prompts/resolve.ts';
import { parsePromptFile } from '../../src/prompts/schema.ts';
import type { PromptStore } from '../../src/prompts/store.ts';
import { minimal } from './fixtures.ts';

type MakeStore = () => Promise<PromptStore> | PromptStore;

const ann = (at: number) => ({ who: 'ann', at });
const def = (text: string, name = 'greet') => parsePromptFile(minimal(name, text));

export function runPromptStoreContract(name: string, makeStore: MakeStore): void {
  const withStore = (fn: (store: PromptStore) => Promise<void>) => async () => {
    const store = await makeStore();
    try {
      await fn(store);
    } finally {
      await store.close();
    }
  };

  /** Three versions of "greet": v1, v2, v3 (ids returned in push order). */
  async function three(store: PromptStore): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, text] of ['hello', 'hi', 'hey'].entries()) {
      ids.push((await store.push(def(text), ann(1000 + i))).version.version);
    }
    return ids;
  }

  describe(`PromptStore contract: ${name}`, () => {
    test(
      'push stores a version by content hash; identical content is idempotent',
      withStore(async (store) => {
        const first = await store.push(def('hello'), ann(1000));
        assert.equal(first.created, true);
        assert.match(first.version.version, /^[0-9a-f]{12}$/);
        assert.deepEqual(
          { ...first.version, body: undefined },
          {
            name: 'greet',
            version: first.version.version,
            seq: 1,
            body: undefined,
            createdAt: 1000,
            createdBy: 'ann',
            goodAt: null,
          },
        );
        const again = await store.push(def('hello'), { who: 'bob', at: 2000 });
        assert.equal(again.created, false);
        assert.deepEqual(again.version, first.version, 'the existing version, still by ann');
        const second = await store.push(def('hi'), ann(3000));
        assert.equal(second.created, true);
        assert.equal(second.version.seq, 2);
        assert.deepEqual(
          (await store.versions('greet')).map((v) => v.seq),
          [1, 2],
        );
        assert.deepEqual(await store.getVersion('greet', first.version.version), first.version);
        assert.equal((await store.latest('greet'))?.version, second.version.version);
        assert.equal(await store.getVersion('greet', 'aaaaaaaaaaaa'), undefined);
        assert.equal(await store.latest('nope'), undefined);
        assert.deepEqual(await store.versions('nope'), []);
      }),
    );

    test(
      'the same body under two names is a version of each',
      withStore(async (store) => {
        const a = await store.push(def('same', 'a'), ann(1));
        const b = await store.push(def('same', 'b'), ann(2));
        assert.equal(b.created, true);
        assert.equal(a.version.version, b.version.version);
        assert.equal(b.version.seq, 1);
      }),
    );

    test(
      'list: every prompt with its versions count, latest and labels',
      withStore(async (store) => {
        const [v1, , v3] = await three(store);
        await store.push(def('x', 'another'), ann(5000));
        await store.setLabel('greet', 'production', v1!, { ...ann(6000), reason: 'launch' });
        await store.setLabel('greet', 'canary', v3!, ann(7000));
        assert.deepEqual(await store.list(), [
          {
            name: 'another',
            description: null,
            versions: 1,
            latest: (await store.latest('another'))!.version,
            labels: {},
            updatedAt: 5000,
          },
          {
            name: 'greet',
            description: null,
            versions: 3,
            latest: v3,
            labels: { canary: v3, production: v1 },
            updatedAt: 7000,
          },
        ]);
      }),
    );

    test(
      'setLabel records who, when, why and what it replaced; the same target again is a no-op',
      withStore(async (store) => {
        const [v1, v2] = await three(store);
        const first = await store.setLabel('greet', 'production', v1!, { ...ann(5000), reason: 'launch' });
        assert.deepEqual(
          { ...first, id: 0 },
          {
            id: 0,
            name: 'greet',
            label: 'production',
            action: 'promote',
            version: v1,
            previous: null,
            who: 'ann',
            reason: 'launch',
            at: 5000,
          },
        );
        const second = await store.setLabel('greet', 'production', v2!, { who: 'bob', at: 6000 });
        assert.equal(second?.previous, v1);
        assert.equal(second?.reason, null);
        assert.equal(await store.setLabel('greet', 'production', v2!, ann(7000)), undefined);
        assert.deepEqual(await store.labels('greet'), { production: v2 });
        assert.equal((await store.labelHistory('greet')).length, 2);
      }),
    );

    test(
      'setLabel refuses a version that does not exist',
      withStore(async (store) => {
        await three(store);
        await assert.rejects(
          store.setLabel('greet', 'production', 'aaaaaaaaaaaa', ann(1)),
          (err: unknown) => {
            assert.ok(err instanceof PromptNotFoundError);
            assert.equal(err.message, 'prompt "greet" has no version aaaaaaaaaaaa');
            return true;
          },
        );
        await assert.rejects(
          store.setLabel('nope', 'production', 'aaaaaaaaaaaa', ann(1)),
          PromptNotFoundError,
        );
        assert.deepEqual(await store.labels('greet'), {});
      }),
    );

    test(
      'rollback walks back one step at a time; history keeps every move, newest first',
      withStore(async (store) => {
        const [v1, v2, v3] = await three(store);
        for (const [i, v] of [v1, v2, v3].entries())
          await store.setLabel('greet', 'production', v!, ann(5000 + i));
        await store.setLabel('greet', 'staging', v1!, ann(5100));

        const back = await store.rollbackLabel('greet', 'production', {
          who: 'bob',
          at: 6000,
          reason: 'bad answers',
        });
        assert.deepEqual(
          { ...back, id: 0 },
          {
            id: 0,
            name: 'greet',
            label: 'production',
            action: 'rollback',
            version: v2,
            previous: v3,
            who: 'bob',
            reason: 'bad answers',
            at: 6000,
          },
        );
        assert.equal((await store.rollbackLabel('greet', 'production', ann(6001))).version, v1);
        assert.deepEqual(await store.labels('greet'), { production: v1, staging: v1 });
        await assert.rejects(store.rollbackLabel('greet', 'production', ann(6002)), (err: unknown) => {
          assert.ok(err instanceof PromptRequestError);
          assert.match(err.message, /label "production" of prompt "greet" has no earlier step/);
          return true;
        });

        // Promote after rollbacks, then roll back: back to the step under the new one.
        await store.setLabel('greet', 'production', v3!, ann(7000));
        assert.equal((await store.rollbackLabel('greet', 'production', ann(7001))).version, v1);

        const history = await store.labelHistory('greet', 'production');
        assert.deepEqual(
          history.map((e) => [e.action, e.version, e.previous]),
          [
            ['rollback', v1, v3],
            ['promote', v3, v1],
            ['rollback', v1, v2],
            ['rollback', v2, v3],
            ['promote', v3, v2],
            ['promote', v2, v1],
            ['promote', v1, null],
          ],
        );
        assert.deepEqual(
          (await store.labelHistory('greet')).map((e) => e.label),
          [
            'production',
            'production',
            'production',
            'production',
            'staging',
            'production',
            'production',
            'production',
          ],
        );
        assert.deepEqual(await store.labelHistory('nope'), []);
      }),
    );

    test(
      'rollback of a label that never moved, or of an unknown prompt, is not found',
      withStore(async (store) => {
        await three(store);
        await assert.rejects(
          store.rollbackLabel('greet', 'canary', ann(1)),
          /prompt "greet" has no label "canary"/,
        );
        await assert.rejects(store.rollbackLabel('nope', 'production', ann(1)), /no prompt "nope"/);
      }),
    );

    test(
      'known-good: the version most recently marked good, other than the excluded one',
      withStore(async (store) => {
        const [v1, v2, v3] = await three(store);
        assert.equal(await store.lastKnownGood('greet'), undefined);
        await store.markGood('greet', v1!, 100);
        await store.markGood('greet', v2!, 200);
        assert.equal((await store.lastKnownGood('greet', v3))?.version, v2);
        assert.equal((await store.lastKnownGood('greet', v2))?.version, v1);
        await store.markGood('greet', v1!, 300);
        assert.equal((await store.lastKnownGood('greet', v3))?.version, v1);
        assert.equal((await store.getVersion('greet', v1!))?.goodAt, 300);
        assert.equal(await store.lastKnownGood('nope'), undefined);
        await store.markGood('greet', 'aaaaaaaaaaaa', 400);
        assert.equal((await store.lastKnownGood('greet'))?.version, v1);
      }),
    );

    test(
      'resolve: NAME is production (else the latest), NAME:LABEL, NAME@VERSION; misses are named',
      withStore(async (store) => {
        const [v1, v2, v3] = await three(store);
        const resolve = async (ref: string) => {
          const r = await resolveRef(store, parseRef(ref));
          return [r.version.version, r.label];
        };
        assert.deepEqual(await resolve('greet'), [v3, null]);
        await store.setLabel('greet', 'production', v1!, ann(1));
        await store.setLabel('greet', 'staging', v2!, ann(2));
        assert.deepEqual(await resolve('greet'), [v1, 'production']);
        assert.deepEqual(await resolve('greet:staging'), [v2, 'staging']);
        assert.deepEqual(await resolve(`greet@${v3}`), [v3, null]);
        await assert.rejects(resolve('greet:canary'), {
          message: 'prompt "greet" has no label "canary" (its labels: production, staging)',
        });
        await assert.rejects(resolve('greet@aaaaaaaaaaaa'), {
          message: 'prompt "greet" has no version aaaaaaaaaaaa',
        });
        await assert.rejects(resolve('nope'), { message: 'no prompt "nope"' });
        await assert.rejects(resolve('nope:production'), { message: 'no prompt "nope"' });
        await assert.rejects(resolve(`nope@${v1}`), { message: 'no prompt "nope"' });
      }),
    );

    test(
      'bodies round-trip exactly (variables, params, multi-line content)',
      withStore(async (store) => {
        const definition = parsePromptFile(`
name: rich
description: with everything
variables:
  who: { type: string, maxLength: 10, description: the customer }
  tone: { type: enum, values: [a, b], default: a }
  data: { type: object, required: false }
messages:
  - role: system
    content: |
      line one {{tone}}
      line two
  - { role: user, content: "{{who}} {{data.x}}" }
params: { temperature: 0.5, max_tokens: 10, stop: ["\\n"], response_format: { type: json_object } }
`);
        const { version } = await store.push(definition, ann(1));
        const { name: _, ...body } = definition;
        assert.deepEqual((await store.getVersion('rich', version.version))?.body, body);
      }),
    );
  });
}
