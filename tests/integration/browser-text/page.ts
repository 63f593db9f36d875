// Page script for tests/integration/browser-text.test.ts: the browser entry of tessera encodes a
// prompt with a pipeline's tokenizer/ and text_encoder/ fetched from the test server.
import { loadTextEncoder, mapFolder } from '../../../src/index.browser.js';

async function folder(base: string, names: string[]) {
  const files = new Map<string, Uint8Array>();
  for (const n of names) files.set(n, new Uint8Array(await (await fetch(`${base}/${n}`)).arrayBuffer()));
  return mapFolder(base, files);
}

(globalThis as unknown as { encode: unknown }).encode = async (base: string, prompts: string[], L: number, stream: boolean) => {
  const enc = await loadTextEncoder(
    { tokenizer: await folder(`${base}/tokenizer`, ['tokenizer.json', 'tokenizer_config.json']), textEncoder: await folder(`${base}/text_encoder`, ['config.json', 'model.safetensors']) },
    { stream },
  );
  try {
    const r = await enc.encodePrompt(prompts, { max_sequence_length: L });
    return { shape: r.shape, data: Array.from(r.data), mode: enc.encoder.mode };
  } finally {
    enc.dispose();
  }
};
document.body.dataset.state = 'ready';
