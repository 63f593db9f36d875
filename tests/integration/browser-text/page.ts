// Page script for tests/integration/browser-text.test.ts: the browser entry of tessera encodes a
// prompt with a pipeline's tokenizer/ and text_encoder/ fetched from the test server, resident and
// streamed.
import { loadTextEncoder, mapFolder } from '../../../src/index.browser.js';

async function folder(base: string, names: string[]) {
  const files = new Map<string, Uint8Array>();
  for (const n of names) files.set(n, new Uint8Array(await (await fetch(`${base}/${n}`)).arrayBuffer()));
  return mapFolder(base, files);
}

type Encoded = { shape: number[]; data: number[]; mode: string };

/**
 * The prompts' prompt_embeds from a resident encoder, which acquires a device of its own (destroyed
 * by its dispose), and from a streamed one given that device (`gpu`), so SwiftShader compiles each
 * kernel once (a new device compiles them all again: ~15 s here).
 */
(globalThis as unknown as { encode: unknown }).encode = async (base: string, prompts: string[], L: number): Promise<Encoded[]> => {
  const folders = { tokenizer: await folder(`${base}/tokenizer`, ['tokenizer.json', 'tokenizer_config.json']), textEncoder: await folder(`${base}/text_encoder`, ['config.json', 'model.safetensors']) };
  const out: Encoded[] = [];
  const resident = await loadTextEncoder(folders, { stream: false });
  try {
    const r = await resident.encodePrompt(prompts, { max_sequence_length: L });
    out.push({ shape: r.shape, data: Array.from(r.data), mode: resident.encoder.mode });
    const streamed = await loadTextEncoder(folders, { stream: true, gpu: resident.encoder.gpu });
    try {
      const s = await streamed.encodePrompt(prompts, { max_sequence_length: L });
      out.push({ shape: s.shape, data: Array.from(s.data), mode: streamed.encoder.mode });
    } finally {
      streamed.dispose();
    }
  } finally {
    resident.dispose();
  }
  return out;
};
document.body.dataset.state = 'ready';
