import assert from 'node:assert/strict';
import { test } from 'node:test';
import { answerRelevancy } from '../../src/evals/scorers/rag-answer-relevancy.ts';
import { averagePrecision, contextPrecision } from '../../src/evals/scorers/rag-context-precision.ts';
import { contextRecall } from '../../src/evals/scorers/rag-context-recall.ts';
import { faithfulness } from '../../src/evals/scorers/rag-faithfulness.ts';
import { rubric } from '../../src/evals/scorers/rubric.ts';
import { safeScore } from '../../src/evals/scorers/scorer.ts';
import { cosineSimilarity, embeddingSimilarity } from '../../src/evals/scorers/semantic.ts';
import { ctx, evalCase, scoreValue, scriptedJudge, tableEmbed } from './fixtures.ts';

const RUBRIC = '5: correct and polite. 1: wrong or rude.';
const verdict = (score: number, reason = 'because') => JSON.stringify({ score, reason });

test('rubric: a valid verdict maps 1..5 to 0..1 and passes from 4', async () => {
  const judge = scriptedJudge([verdict(4, 'mostly right')]);
  const result = await rubric({ judge, rubric: RUBRIC }).score(ctx({ output: 'Paris' }));
  assert.deepEqual(result, { value: 0.75, pass: true, detail: '4/5: mostly right' });
  assert.equal(judge.calls.length, 1);
  assert.match(judge.calls[0]!.at(-1)!.content, /RUBRIC:\n5: correct and polite[\s\S]*ANSWER:\nParis/);
});

test('rubric: a malformed verdict gets a corrective message, then the valid one is used', async () => {
  const judge = scriptedJudge(['Score: 5. Great answer!', verdict(2, 'wrong city')]);
  const result = await rubric({ judge, rubric: RUBRIC }).score(ctx({ output: 'Lyon' }));
  assert.deepEqual(result, { value: 0.25, pass: false, detail: '2/5: wrong city' });
  assert.equal(judge.calls.length, 2);
  const retry = judge.calls[1]!;
  assert.deepEqual(retry.at(-2), { role: 'assistant', content: 'Score: 5. Great answer!' });
  assert.match(retry.at(-1)!.content, /could not be used: it is not valid JSON/);

  const outOfRange = scriptedJudge([verdict(7), '```json\n{"score": 3, "reason": "ok"}\n```']);
  const second = await rubric({ judge: outOfRange, rubric: RUBRIC }).score(ctx({ output: 'x' }));
  assert.equal(scoreValue(second), 0.5);
  assert.match(outOfRange.calls[1]!.at(-1)!.content, /score: Too big: expected number to be <=5/);
});

test('rubric: a judge that never complies is an error after 1 + retries calls, never a 0', async () => {
  const judge = scriptedJudge(['nope', '{"score": "five"}', '{"score": 5}']);
  const result = await safeScore(rubric({ judge, rubric: RUBRIC }), ctx({ output: 'x' }));
  assert.equal(judge.calls.length, 3);
  assert.ok('error' in result, 'an unusable judge gives an error');
  assert.match(result.error, /rubric: judge gave no valid JSON after 3 attempts \(last problem: reason:/);

  const oneRetry = scriptedJudge(['nope', 'still nope']);
  const limited = await rubric({ judge: oneRetry, rubric: RUBRIC, retries: 1 }).score(ctx({ output: 'x' }));
  assert.ok('error' in limited);
  assert.equal(oneRetry.calls.length, 2);

  const failing = async () => {
    throw new Error('gateway 503');
  };
  assert.deepEqual(await rubric({ judge: failing, rubric: RUBRIC }).score(ctx({ output: 'x' })), {
    error: 'rubric: judge call failed: gateway 503',
  });
});

test('embeddingSimilarity is the cosine of the output and expected embeddings', async () => {
  assert.equal(cosineSimilarity([1, 0], [0.6, 0.8]), 0.6);
  const embed = tableEmbed({ Paris: [1, 0], 'It is Paris': [0.6, 0.8], Berlin: [-1, 0] });
  const scorer = embeddingSimilarity({ embed, threshold: 0.5 });
  const c = evalCase({ expected: 'Paris' });
  const close = await scorer.score(ctx({ evalCase: c, output: 'It is Paris' }));
  assert.equal(scoreValue(close), 0.6);
  assert.equal('pass' in close && close.pass, true);
  assert.equal(
    scoreValue(await scorer.score(ctx({ evalCase: c, output: 'Berlin' }))),
    0,
    'negative cosine floors at 0',
  );
  assert.deepEqual(await scorer.score(ctx({ output: 'Paris' })), {
    error: 'case "c1" has no expected text or reference',
  });
  const broken = embeddingSimilarity({ embed: async () => [[1, 0]] });
  const result = await safeScore(broken, ctx({ evalCase: c, output: 'It is Paris' }));
  assert.ok('error' in result);
  assert.match(result.error, /embed returned 1 vectors for 2 texts/);
});

const ragCase = evalCase({
  id: 'rag1',
  input: { messages: [{ role: 'user', content: 'When was the Eiffel Tower built and how tall is it?' }] },
  reference: 'It was built 1887-1889 and is 330 m tall. It is in Paris.',
  contexts: [
    'The Eiffel Tower was built from 1887 to 1889.',
    'Gustave Eiffel’s company built it.',
    'It is 330 metres tall.',
  ],
});

test('faithfulness = supported claims / claims, with the contexts sent to the verdict step', async () => {
  const statements = [
    'It was built in 1889.',
    'It is 330 m tall.',
    'It is painted gold.',
    'Eiffel built it.',
  ];
  const judge = scriptedJudge([
    JSON.stringify({ statements }),
    // Wrong count first: the schema asks for one verdict per statement, so this is corrected.
    JSON.stringify({ verdicts: [{ statement: statements[0], reason: 'c1', verdict: 1 }] }),
    JSON.stringify({
      verdicts: statements.map((statement, i) => ({ statement, reason: 'r', verdict: i === 2 ? 0 : 1 })),
    }),
  ]);
  const result = await faithfulness({ judge }).score(
    ctx({ evalCase: ragCase, output: 'Built 1889, 330 m, gold.' }),
  );
  assert.equal(scoreValue(result), 3 / 4);
  assert.match(
    'detail' in result ? (result.detail ?? '') : '',
    /3\/4 claims supported; unsupported: It is painted gold\./,
  );
  assert.match(judge.calls[1]!.at(-1)!.content, /\[3\] It is 330 metres tall\./);
  assert.match(judge.calls[2]!.at(-1)!.content, /verdicts: must have exactly 4 verdicts/);

  const noClaims = scriptedJudge([JSON.stringify({ statements: [] })]);
  assert.deepEqual(
    await faithfulness({ judge: noClaims }).score(ctx({ evalCase: ragCase, output: 'Hmm.' })),
    {
      error: 'faithfulness: the answer makes no claims to check',
    },
  );
  const noContexts = await faithfulness({ judge: scriptedJudge([]) }).score(ctx({ output: 'x' }));
  assert.deepEqual(noContexts, { error: 'case "c1": no contexts (neither the run nor the case gave any)' });
});

test('answer relevancy = mean cosine(question, generated questions); 0 when noncommittal', async () => {
  const question = 'When was the Eiffel Tower built and how tall is it?';
  const embed = tableEmbed({ [question]: [1, 0], g1: [1, 0], g2: [0.6, 0.8], g3: [0, 1] });
  const judge = scriptedJudge([JSON.stringify({ questions: ['g1', 'g2', 'g3'], noncommittal: 0 })]);
  const result = await answerRelevancy({ judge, embed }).score(ctx({ evalCase: ragCase, output: 'answer' }));
  assert.ok(Math.abs(scoreValue(result) - (1 + 0.6 + 0) / 3) < 1e-12);

  const evasive = scriptedJudge([JSON.stringify({ questions: ['g1', 'g2', 'g3'], noncommittal: 1 })]);
  assert.deepEqual(
    await answerRelevancy({ judge: evasive, embed }).score(ctx({ evalCase: ragCase, output: '?' })),
    {
      value: 0,
      detail: 'the answer is noncommittal',
    },
  );

  const two = scriptedJudge([JSON.stringify({ questions: ['g1', 'g2'], noncommittal: 0 })]);
  const twoResult = await answerRelevancy({ judge: two, embed, questions: 2 }).score(
    ctx({ evalCase: ragCase, output: 'a' }),
  );
  assert.equal(scoreValue(twoResult), 0.8);
});

test('context precision = mean precision@k over the ranks of relevant chunks', async () => {
  assert.equal(averagePrecision([1, 1, 1]), 1);
  assert.equal(averagePrecision([0, 0, 0]), 0);
  assert.ok(Math.abs(averagePrecision([0, 1, 1]) - (1 / 2 + 2 / 3) / 2) < 1e-12);
  const chunk = (v: 0 | 1) => JSON.stringify({ reason: 'r', verdict: v });
  const judge = scriptedJudge([chunk(1), chunk(0), chunk(1)]);
  const result = await contextPrecision({ judge }).score(ctx({ evalCase: ragCase, output: 'x' }));
  assert.ok(Math.abs(scoreValue(result) - (1 + 2 / 3) / 2) < 1e-12, 'verdicts 1,0,1 give (1/1 + 2/3) / 2');
  assert.equal(judge.calls.length, 3, 'one judge call per retrieved chunk');
  assert.match(judge.calls[1]!.at(-1)!.content, /CONTEXT:\nGustave Eiffel’s company built it\./);
  assert.match(judge.calls[1]!.at(-1)!.content, /REFERENCE ANSWER:\nIt was built 1887-1889/);

  const runContexts = scriptedJudge([chunk(0), chunk(1)]);
  const fromRun = await contextPrecision({ judge: runContexts }).score(
    ctx({ evalCase: ragCase, output: 'x', contexts: ['noise', 'It is 330 metres tall.'] }),
  );
  assert.equal(scoreValue(fromRun), 0.5, 'the run’s retrieved contexts take precedence over the case’s');
  const noRef = await contextPrecision({ judge: scriptedJudge([]) }).score(
    ctx({ evalCase: evalCase({ contexts: ['a'] }), output: 'x' }),
  );
  assert.deepEqual(noRef, { error: 'case "c1" has no reference answer' });
});

test('context recall = reference statements attributable to the contexts / statements', async () => {
  const classifications = [1, 0, 1, 1, 0].map((attributed, i) => ({
    statement: `s${i}`,
    reason: 'r',
    attributed,
  }));
  const judge = scriptedJudge([JSON.stringify({ classifications })]);
  const result = await contextRecall({ judge }).score(ctx({ evalCase: ragCase, output: 'x' }));
  assert.equal(scoreValue(result), 3 / 5);
  const empty = scriptedJudge([JSON.stringify({ classifications: [] })]);
  assert.deepEqual(await contextRecall({ judge: empty }).score(ctx({ evalCase: ragCase, output: 'x' })), {
    error: 'context-recall: the reference yielded no statements',
  });
  const garbage = scriptedJudge(['{}', '[]', 'null']);
  const failed = await contextRecall({ judge: garbage }).score(ctx({ evalCase: ragCase, output: 'x' }));
  assert.ok(
    'error' in failed &&
      /context-recall: classifications: judge gave no valid JSON after 3/.test(failed.error),
  );
});
