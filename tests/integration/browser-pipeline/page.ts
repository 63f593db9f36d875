// Page script for tests/integration/browser-pipeline.test.ts: the browser entry of tessera runs the
// golden WanPipeline served by the test server (tests/fixtures/umt5/pipeline_prompt's tokenizer and
// text encoder with wan_pipeline_embeds' transformer, scheduler and VAE): loadPipeline on the folder's
// URL, generate from prompt text or from the cases' prompt embeddings and latents, concurrent calls,
// dispose() during a call, and the f16 refusal on an adapter without shader-f16; and the autotuner's
// cache in IndexedDB (a GEMM over the tuner's FLOP floor, through the profiler entry's workload).
import { cachedChoices, gemmWorkload } from '../../../src/profiler.js';
import { acquireGpu, bytesSource, DisposedError, DtypeUnsupportedError, InputError, loadPipeline, mapFolder, readSafetensorsHeader, readTensorF32, watchKernels, type Pipeline, type PipelineVideoOutput, type TensorData } from '../../../src/index.browser.js';

/** One call's result as the test reads it back (plain arrays: page.evaluate returns JSON). */
type Out = { latents: { shape: number[]; data: number[] }; video: { shape: number[]; data: number[] } };
type Thrown = { name: string; message: string; disposed: boolean; dtype: boolean; input: boolean };

const CASES: Record<string, { steps: number; guidance: number }> = {
  // wan_pipeline_embeds/cases.json's args (--steps, --guidance)
  euler_b1: { steps: 3, guidance: 4 },
  euler_b2: { steps: 2, guidance: 5 },
};
/** The prompt-text case (umt5/pipeline_prompt/case.json), as the test passes it. */
type PromptCase = { prompt: string[]; negative_prompt: string; max_sequence_length: number; num_inference_steps: number; guidance_scale: number };

let pipe: Pipeline | null = null;
/** The pipeline at `base`pipeline/, loaded on a device of its own at the first call (so that each test also runs alone). */
const loaded = async (base: string): Promise<Pipeline> => (pipe ??= await loadPipeline(`${base}pipeline/`));

async function inputs(base: string, name: string): Promise<Map<string, TensorData>> {
  const res = await fetch(`${base}${name}.inputs.safetensors`);
  if (!res.ok) throw new Error(`${name}.inputs.safetensors: HTTP ${res.status}`);
  const src = bytesSource(`${name}.inputs.safetensors`, new Uint8Array(await res.arrayBuffer()));
  const out = new Map<string, TensorData>();
  for (const [k, info] of (await readSafetensorsHeader(src)).tensors) out.set(k, { shape: info.shape, data: await readTensorF32(src, info) });
  return out;
}

/** Pipeline.generate's options for golden case `name` (the CLI's --inputs tensors under their pipeline names). */
async function call(base: string, name: string) {
  const t = await inputs(base, name);
  return { latents: t.get('latents')!, prompt_embeds: t.get('encoder_hidden_states')!, negative_prompt_embeds: t.get('negative_encoder_hidden_states')!, num_inference_steps: CASES[name]!.steps, guidance_scale: CASES[name]!.guidance };
}

const plain = (o: PipelineVideoOutput): Out => ({ latents: { shape: o.latents.shape, data: Array.from(o.latents.data) }, video: { shape: o.video.shape, data: Array.from(o.video.data) } });
const thrown = (e: unknown): Thrown => ({ name: (e as Error).name, message: (e as Error).message, disposed: e instanceof DisposedError, dtype: e instanceof DtypeUnsupportedError, input: e instanceof InputError });

const api = {
  /** Loads the pipeline at `base`pipeline/ (a string: the browser's default resolver, httpFolder) on a device of its own, once. */
  async load(base: string): Promise<{ className: string; scheduler: string; vae: boolean; textEncoder: boolean }> {
    const pipe = await loaded(base);
    return { className: pipe.className, scheduler: pipe.scheduler.className, vae: !!pipe.vae, textEncoder: !!pipe.textEncoder };
  },

  /**
   * The prompt-text case: its prompts through the pipeline's tokenizer and UMT5, latents from
   * `inputsUrl` (a safetensors file); then the same prompts again (latents only, one step): how many
   * prompts the text encoder encoded after each call (the second should encode none).
   */
  async generatePrompt(base: string, inputsUrl: string, c: PromptCase): Promise<Out & { encoded: number[] }> {
    const pipe = await loaded(base);
    const res = await fetch(inputsUrl);
    if (!res.ok) throw new Error(`${inputsUrl}: HTTP ${res.status}`);
    const src = bytesSource(inputsUrl, new Uint8Array(await res.arrayBuffer()));
    const info = (await readSafetensorsHeader(src)).tensors.get('latents')!;
    const latents = { shape: info.shape, data: await readTensorF32(src, info) };
    const te = pipe.textEncoder as { encodedCount?: number } | undefined;
    const out = plain(await pipe.generate({ ...c, latents, output_type: 'np' }));
    const encoded = [te?.encodedCount ?? -1];
    await pipe.generate({ ...c, latents, num_inference_steps: 1, output_type: 'latent' });
    encoded.push(te?.encodedCount ?? -1);
    return { ...out, encoded };
  },

  /** Golden case `name` on the loaded pipeline. */
  async generate(base: string, name: string): Promise<Out> {
    const pipe = await loaded(base);
    return plain(await pipe.generate({ ...(await call(base, name)), output_type: 'np' }));
  },

  /**
   * Golden case `name` on the pipeline given as Blobs by relative path (`files` of `base`pipeline/,
   * fetched here), as a page gets a folder the user picked (mapFolder over `<input webkitdirectory>`
   * files), on the URL pipeline's device (its kernels compiled once); disposed after.
   */
  async generateFromBlobs(base: string, files: string[], name: string): Promise<Out & { pipeline: string }> {
    const gpu = (await loaded(base)).gpu;
    const blobs = new Map<string, Blob>();
    for (const f of files) blobs.set(f, await (await fetch(`${base}pipeline/${f}`)).blob());
    const picked = await loadPipeline(mapFolder('picked', blobs), { gpu });
    try {
      return { ...plain(await picked.generate({ ...(await call(base, name)), output_type: 'np' })), pipeline: picked.name };
    } finally {
      picked.dispose();
    }
  },

  /** Every case of `names` started at once (no await between the calls); results and the order they finished in. */
  async concurrent(base: string, names: string[]): Promise<{ outs: Out[]; order: string[] }> {
    const pipe = await loaded(base);
    const opts = await Promise.all(names.map((n) => call(base, n)));
    const order: string[] = [];
    const outs = await Promise.all(opts.map((o, i) => pipe.generate({ ...o, output_type: 'np' }).then((r) => (order.push(names[i]!), plain(r)))));
    return { outs, order };
  },

  /**
   * `running` started, `queued` started behind it, then dispose() at `running`'s second step; a
   * call made right after dispose(), and one after both settled. What each gave, and whether the
   * pipeline's own device was destroyed (gpu.lost) while `running` was still running and after.
   */
  async disposeDuring(base: string, running: string, queued: string) {
    const p = await loaded(base);
    const [a, b] = [await call(base, running), await call(base, queued)];
    let after: Promise<Thrown | null> | null = null;
    let lostAtDispose: string | null = 'not disposed';
    const first = p.generate({
      ...a,
      output_type: 'np',
      onStep: (i: number) => {
        if (i !== 1) return;
        p.dispose();
        lostAtDispose = p.gpu.lost;
        // handled at once: a rejection left unhandled until the awaits below would be reported as uncaught
        after = p.generate({ ...a, output_type: 'np' }).then(
          () => null,
          (e: unknown) => thrown(e),
        );
      },
    });
    const second = p.generate({ ...b, output_type: 'np' });
    const settled = await Promise.allSettled([first, second]);
    const afterDispose = await after!;
    const later = await p.generate({ ...a, output_type: 'np' }).then(
      () => null,
      (e: unknown) => thrown(e),
    );
    // free runs after the last call settled: give its microtask a turn
    await new Promise((r) => setTimeout(r, 0));
    pipe = null;
    return {
      results: settled.map((s) => (s.status === 'fulfilled' ? { out: plain(s.value) } : { error: thrown(s.reason) })),
      afterDispose,
      later,
      lostAtDispose,
      lostAfter: p.gpu.lost,
    };
  },

  /** loadPipeline(url, { dtype: 'f16' }): what it threw, and whether the adapter has shader-f16. */
  async f16(url: string): Promise<{ hasF16: boolean; adapter: string; error: Thrown | null }> {
    const adapter = await navigator.gpu.requestAdapter();
    const hasF16 = !!adapter?.features.has('shader-f16');
    const error = await loadPipeline(url, { dtype: 'f16' }).then(
      (p) => (p.dispose(), null),
      (e: unknown) => thrown(e),
    );
    return { hasF16, adapter: adapter?.info?.description || adapter?.info?.vendor || 'unknown', error };
  },

  /**
   * A 256×256×256 f32 GEMM (2^25 FLOPs: over the floor of the tuning a first run does by itself) run
   * `runs` times, each on a plan of its own, on a device of its own (tune mode: the browser's default,
   * auto): the buckets it timed (KernelEvents 'tune' with their store) and whether every run's output
   * matched the reference.
   */
  async tuneGemm(runs = 1): Promise<{ tuned: string[]; where: (string | null)[]; ok: boolean[] }> {
    const gpu = await acquireGpu();
    const tuned: string[] = [];
    const where: (string | null)[] = [];
    // a bucket's 'tune' event as its timing starts (done < total; one more follows the last)
    const stop = watchKernels(gpu, (e) => {
      if (e.type !== 'tune' || e.done >= e.total) return;
      tuned.push(`${e.family} ${e.bucket}`);
      where.push(e.where);
    });
    const ok: boolean[] = [];
    try {
      for (let i = 0; i < runs; i++) {
        const w = gemmWorkload(gpu, { m: 256, k: 256, n: 256, dtype: 'f32' });
        try {
          ok.push((await w.check()).ok);
        } finally {
          w.destroy();
        }
      }
    } finally {
      stop();
      gpu.destroy();
    }
    return { tuned, where, ok };
  },

  /** This adapter's cached choices as the tuner loaded them from IndexedDB (`family|bucket`, as tessera info lists them). */
  async tuneChoices(): Promise<string[]> {
    const gpu = await acquireGpu();
    try {
      return Object.keys(await cachedChoices(gpu));
    } finally {
      gpu.destroy();
    }
  },

  /** The IndexedDB record the tuner keeps (database tessera, store tune, key entries), as stored; `put`: replaces it first. */
  async tuneRecord(put?: { value: unknown }): Promise<unknown> {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const r = indexedDB.open('tessera', 1);
      r.onupgradeneeded = () => r.result.createObjectStore('tune');
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    try {
      return await new Promise((resolve, reject) => {
        const t = db.transaction('tune', 'readwrite');
        const os = t.objectStore('tune');
        if (put) os.put(put.value, 'entries');
        const g = os.get('entries');
        t.oncomplete = () => resolve(g.result);
        t.onerror = () => reject(t.error);
      });
    } finally {
      db.close();
    }
  },
};

(globalThis as unknown as { tessera: typeof api }).tessera = api;
document.body.dataset.state = 'ready';
