/**
 * Summarise a V8 .cpuprofile (from `node --cpu-prof`): self time per function, and inclusive time per
 * source area (a src/ file, a node_modules package, node internals), each as a share of busy
 * (non-idle) time.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  hitCount?: number;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileLine {
  name: string;
  ms: number;
  share: number;
}

export interface ProfileSummary {
  file: string;
  busyMs: number;
  idleMs: number;
  selfByFunction: ProfileLine[];
  selfByArea: ProfileLine[];
  inclusiveByArea: ProfileLine[];
  inclusiveSrcFunctions: ProfileLine[];
  selfByBucket: ProfileLine[];
  /** Requests the process served while profiled, when known: turns shares into µs per request. */
  requests?: number | undefined;
}

const repoUrl = new URL('../../', import.meta.url).href;
/** A compiled copy of the repo made by build.ts: $TMPDIR/keel-bench-XXXXXX/. */
const buildCopy = /^file:\/\/.*\/keel-bench-[^/]+\/(?!node_modules\/)(.*)$/;

/** Repo-relative path for the repo and its compiled copies (line numbers are then of the .js). */
function shortUrl(url: string): string {
  if (url.startsWith(repoUrl)) return url.slice(repoUrl.length);
  return buildCopy.exec(url)?.[1] ?? url;
}

function area(frame: CallFrame): string {
  const url = shortUrl(frame.url);
  if (!url) return frame.functionName.startsWith('(') ? frame.functionName : '(native)';
  if (url.startsWith('node:')) return 'node: internals';
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = url.slice(nm + 'node_modules/'.length).split('/');
    return `pkg ${rest[0]?.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]}`;
  }
  return url;
}

function frameName(frame: CallFrame): string {
  const url = shortUrl(frame.url);
  const fn = frame.functionName || '(anonymous)';
  if (!url) return fn;
  const nm = url.lastIndexOf('node_modules/');
  const where = nm >= 0 ? url.slice(nm + 'node_modules/'.length) : url;
  return `${fn}  ${where}:${frame.lineNumber + 1}`;
}

/** Coarse cost buckets for a leaf frame: what kind of work the CPU was doing. */
function bucket(frame: CallFrame): string {
  const url = shortUrl(frame.url);
  const fn = frame.functionName;
  if (fn === '(garbage collector)') return 'GC';
  if (fn === '(program)') return '(program: V8/native, unattributed)';
  if (
    /^(writev|writeBuffer|writeUtf8String|writeLatin1String|writeAsciiString|shutdown|close)$/.test(fn) &&
    !url
  )
    return 'socket syscalls (kernel loopback send)';
  if (/^node:internal\/(abort_controller|event_target|per_context\/domexception)/.test(url))
    return 'AbortController / EventTarget / DOMException';
  if (
    fn === 'runMicrotasks' ||
    /^node:internal\/process\/task_queues/.test(url) ||
    /^node:internal\/timers/.test(url)
  )
    return 'promise/tick/timer machinery';
  if (url.startsWith('node:')) return 'node http/net/streams/events';
  if (url.startsWith('wasm://')) return 'undici (llhttp wasm parser)';
  const a = area(frame);
  if (['pkg fastify', 'pkg find-my-way', 'pkg secure-json-parse', 'pkg avvio', 'pkg toad-cache'].includes(a))
    return 'pkg fastify (+ find-my-way, secure-json-parse)';
  if (!url) return '(other native)';
  return a;
}

function top(map: Map<string, number>, busy: number, n: number): ProfileLine[] {
  return [...map.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, us]) => ({ name, ms: us / 1000, share: us / busy }));
}

export function summarizeProfile(file: string, n = 25, requests?: number): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const self = new Map<string, number>();
  const selfArea = new Map<string, number>();
  const selfBucket = new Map<string, number>();
  const inclArea = new Map<string, number>();
  const inclSrc = new Map<string, number>();
  let busy = 0;
  let idle = 0;
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (!node) continue;
    if (node.callFrame.functionName === '(idle)') {
      idle += dt;
      continue;
    }
    busy += dt;
    const leafName = frameName(node.callFrame);
    self.set(leafName, (self.get(leafName) ?? 0) + dt);
    const leafArea = area(node.callFrame);
    selfArea.set(leafArea, (selfArea.get(leafArea) ?? 0) + dt);
    const leafBucket = bucket(node.callFrame);
    selfBucket.set(leafBucket, (selfBucket.get(leafBucket) ?? 0) + dt);
    const areas = new Set<string>();
    const srcFns = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const frame = byId.get(cur)!.callFrame;
      if (frame.functionName === '(root)') break;
      areas.add(area(frame));
      if (shortUrl(frame.url).startsWith('src/')) srcFns.add(frameName(frame));
    }
    for (const a of areas) inclArea.set(a, (inclArea.get(a) ?? 0) + dt);
    for (const f of srcFns) inclSrc.set(f, (inclSrc.get(f) ?? 0) + dt);
  }
  return {
    file,
    busyMs: busy / 1000,
    idleMs: idle / 1000,
    selfByFunction: top(self, busy, n),
    selfByArea: top(selfArea, busy, n),
    inclusiveByArea: top(inclArea, busy, n),
    inclusiveSrcFunctions: top(inclSrc, busy, n),
    selfByBucket: top(selfBucket, busy, 50),
    requests,
  };
}

export function formatProfile(s: ProfileSummary): string {
  const pct = (x: number) => `${(x * 100).toFixed(1).padStart(5)}%`;
  const perReq = (ms: number) =>
    s.requests ? `${((ms * 1000) / s.requests).toFixed(1).padStart(6)} µs/req  ` : '';
  const block = (title: string, lines: ProfileLine[]) =>
    [
      title,
      ...lines.map((l) => `  ${pct(l.share)}  ${l.ms.toFixed(0).padStart(7)} ms  ${perReq(l.ms)}${l.name}`),
    ].join('\n');
  const served = s.requests
    ? `, ${s.requests} requests served: ${((s.busyMs * 1000) / s.requests).toFixed(0)} µs busy per request`
    : '';
  return [
    `profile ${shortUrl(`file://${s.file}`)}: busy ${s.busyMs.toFixed(0)} ms, idle ${s.idleMs.toFixed(0)} ms${served} (shares are of busy time; busy includes time in syscalls)`,
    block('self time by kind of work:', s.selfByBucket),
    block('self time by function:', s.selfByFunction),
    block('self time by area:', s.selfByArea),
    block('inclusive time by area (a sample counts once per area on its stack):', s.inclusiveByArea),
    block('inclusive time of src/ functions:', s.inclusiveSrcFunctions),
  ].join('\n\n');
}
