/**
 * A library for a team: an S3-compatible server on loopback (s3rver), the CLI configured through the
 * environment (ADAPTER_COMPOSER_STORAGE_OPTIONS), two processes adding while a third queries.
 *
 * s3rver 3.7.1 ignores `If-None-Match: *` on PUT, and LanceDB's S3 commit protocol relies on exactly
 * that conditional PUT (object_store PutMode::Create): without it, concurrent commits overwrite each
 * other's manifest and rows are silently lost. The first test proves the gap; the server used by the
 * others gets a small middleware that honours the header and makes a PUT visible only once written, as
 * AWS S3, MinIO, R2 and GCS do.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
// s3rver ships no types; the few members used here are declared below.
// eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped CommonJS package
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => S3rver;
interface S3rver { run(): Promise<unknown>; close(): Promise<void> }
import { encodeNpy } from '../../server/src/engine/prototype/npy';
import { openLibrary } from '../../server/src/engine/library/library';
import { cliAsync, demoWorkspace, ensureBuilt } from './workspace';
import { inputs } from './fuzzing';

let ws: string;
let store: string;
let server: S3rver;
let port: number;
let env: NodeJS.ProcessEnv;
const storageOptions = () => ({ aws_endpoint: `http://127.0.0.1:${port}`, aws_access_key_id: 'S3RVER', aws_secret_access_key: 'S3RVER', aws_region: 'us-east-1', allow_http: 'true', aws_virtual_hosted_style_request: 'false' });

before(async () => {
  ensureBuilt();
  ws = demoWorkspace('ac-hardening-team-');
  store = fs.mkdtempSync(path.join(os.tmpdir(), 'ac-hardening-s3-'));
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: store, configureBuckets: [{ name: 'plain' }, { name: 'team' }] });
  // For the 'team' bucket only, what S3 guarantees and s3rver does not: conditional PUT (create-if-absent,
  // serialised so check+write is atomic), and atomic visibility — s3rver streams an object into its final
  // file, so a GET during the PUT could read a partial (even empty) object; a GET/HEAD of a key waits
  // for that key's write in flight, and a listing for every write in flight (s3rver lists a file being
  // streamed with its size so far: a reader that listed an object mid-write, size 0, then asked for
  // "bytes 0 to -1" and failed with "Range started at 0 and ended at 0", once under load). Writes are
  // PUTs and multipart completions (POST …?uploadId=…, which s3rver also streams into the final file).
  let queue: Promise<unknown> = Promise.resolve();
  const inflight = new Map<string, Promise<unknown>>();
  const koa = server as unknown as { middleware: ((ctx: KoaContext, next: () => Promise<void>) => Promise<void>)[]; store: { existsObject(b: string, k: string): Promise<boolean> } };
  koa.middleware.unshift(async (ctx, next) => {
    const [, bucket, ...keyParts] = decodeURIComponent(ctx.path).split('/');
    const key = keyParts.join('/');
    if (bucket !== 'team') return next();
    if (key === '') {
      if (ctx.method === 'GET') await Promise.all([...inflight.values()].map((w) => w.catch(() => undefined)));
      return next();
    }
    if (ctx.method === 'GET' || ctx.method === 'HEAD') {
      await inflight.get(key)?.catch(() => undefined);
      return next();
    }
    if (ctx.method === 'POST') {
      const completion = next();
      inflight.set(key, completion);
      try {
        return await completion;
      } finally {
        if (inflight.get(key) === completion) inflight.delete(key);
      }
    }
    if (ctx.method !== 'PUT') return next();
    const write = ctx.get('if-none-match') !== '*'
      ? next()
      : queue.then(async () => {
        if (await koa.store.existsObject(bucket, key)) ctx.status = 412;
        else await next();
      });
    if (ctx.get('if-none-match') === '*') queue = write.catch(() => undefined);
    inflight.set(key, write);
    try {
      await write;
    } finally {
      if (inflight.get(key) === write) inflight.delete(key);
    }
  });
  port = ((await server.run()) as { port: number }).port;
  env = { ADAPTER_COMPOSER_STORAGE_OPTIONS: JSON.stringify(storageOptions()) };
  fs.writeFileSync(path.join(ws, 'p.npy'), encodeNpy(Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)), [16]));
});

after(async () => {
  await server?.close();
  fs.rmSync(store, { recursive: true, force: true });
});

interface KoaContext { method: string; path: string; status: number; get(h: string): string }

function put(bucket: string, key: string, body: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'PUT', path: `/${bucket}/${key}`, headers: { 'content-length': Buffer.byteLength(body), ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('s3rver itself ignores If-None-Match: * (why LanceDB needs the middleware on it)', async () => {
  assert.equal(await put('plain', 'x', 'one', { 'if-none-match': '*' }), 200);
  assert.equal(await put('plain', 'x', 'two', { 'if-none-match': '*' }), 200, 's3rver overwrote an existing object despite If-None-Match: *');
  assert.equal(await put('team', 'x', 'one', { 'if-none-match': '*' }), 200);
  assert.equal(await put('team', 'x', 'two', { 'if-none-match': '*' }), 412, 'the middleware refuses the second create');
});

async function run(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return cliAsync(args, { cwd: ws, env }).done;
}

test('a team library on S3: two processes add while a third lists; every row lands, nothing is duplicated', async () => {
  const uri = 's3://team/adapters';
  const init = await run(['library', 'init', uri, '--dim', '16']);
  assert.equal(init.status, 0, init.stderr);
  const per = inputs(4);
  // Writer a waits after its first row until the reader has listed at least one landed row, so some
  // listing certainly overlaps the writes (not a count that cannot fail).
  let rowsLanded = 0;
  let sawRowsWhileWriting!: () => void;
  const listedWhileWriting = new Promise<void>((resolve) => (sawRowsWhileWriting = resolve));
  const writer = async (who: string) => {
    for (let i = 0; i < per; i++) {
      const r = await run(['library', 'add', uri, `adapters/${who === 'a' ? 'math-11' : 'legal-03'}`, '--name', `${who}-${i}`, '--prototype', 'p.npy']);
      assert.equal(r.status, 0, `${who}-${i}: ${r.stderr}`);
      rowsLanded++;
      if (who === 'a' && i === 0) await listedWhileWriting;
    }
  };
  let listingsWhileWriting = 0;
  let writing = true;
  const reader = async () => {
    while (writing) {
      const landed = rowsLanded;
      const r = await run(['library', 'ls', uri, '--json']);
      assert.equal(r.status, 0, r.stderr);
      const names = (JSON.parse(r.stdout) as { name: string }[]).map((a) => a.name);
      assert.equal(new Set(names).size, names.length, 'no duplicate rows while writing');
      // a listing started after n commits (of other processes) sees at least those n rows
      assert.ok(names.length >= landed, `a listing started after ${landed} adds shows ${names.length} rows`);
      if (writing && landed > 0) {
        listingsWhileWriting++;
        sawRowsWhileWriting();
      }
    }
  };
  const reading = reader();
  await Promise.all([writer('a'), writer('b')]);
  writing = false;
  await reading;
  assert.ok(listingsWhileWriting >= 1, 'a listing ran between the writes');
  const library = await openLibrary(uri, { storageOptions: storageOptions() });
  try {
    const names = (await library.list({ prototypes: false })).map((a) => a.name).sort();
    const expected = [...Array.from({ length: per }, (_, i) => `a-${i}`), ...Array.from({ length: per }, (_, i) => `b-${i}`)].sort();
    assert.deepEqual(names, expected);
    const hits = await library.search(Float32Array.from({ length: 16 }, (_, i) => Math.sin(i)), { k: 3 });
    assert.equal(hits.length, 3);
  } finally {
    library.close();
  }
});
