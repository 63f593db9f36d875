// The profiler page's line for a model folder that did not load (examples/profiler/folder-words.ts), from the
// library's own messages (loadPipeline on a component folder and on an empty one), so that a change of the library's
// wording that the page no longer recognises fails here rather than showing a script's advice on the page.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { folderWords } from '../../examples/profiler/folder-words.js';
import { loadPipeline } from '../../src/index.js';
import { ROOT } from '../helpers/golden.js';

const empty = mkdtempSync(join(tmpdir(), 'tessera-folder-words-'));
afterAll(() => rmSync(empty, { recursive: true, force: true }));

const messageOf = (folder: string) =>
  loadPipeline(folder).then(
    () => {
      throw new Error(`${folder} loaded`);
    },
    (e: Error) => e.message,
  );

describe("the page's words for a folder that is not a pipeline", () => {
  const shapes = join(ROOT, 'models', 'tessera-shapes');
  it('a component folder (the transformer, the VAE): what it is, and the pipeline folder above it to give instead', async () => {
    for (const sub of ['transformer', 'vae']) {
      const msg = await messageOf(join(shapes, sub));
      const url = folderWords(msg, 'url');
      expect(url).toMatch(new RegExp(`^no model_index\\.json there: \\S+/${sub} is a (transformer|VAE) folder \\(config\\.json: \\w+\\), a pipeline's ${sub}/ component; give the URL of the pipeline folder above it, \\S+/tessera-shapes/$`));
      expect(folderWords(msg, 'picked')).toMatch(/; pick the pipeline folder above it$/);
      expect(url).not.toMatch(/loadModel|loadVae/);
    }
  });
  it('a folder with neither model_index.json nor a component config: which folder to give', async () => {
    const msg = await messageOf(empty);
    expect(folderWords(msg, 'url')).toBe(`no model_index.json there (${empty}/model_index.json: missing); give the URL of the folder that holds model_index.json (a diffusers WanPipeline or LattePipeline folder)`);
    expect(folderWords(msg, 'picked')).toMatch(/; pick the folder that holds model_index\.json/);
  });
  it('any other message is shown as it is', () => {
    expect(folderWords('x/model_index.json: _class_name "Foo" is not supported', 'url')).toBe('x/model_index.json: _class_name "Foo" is not supported');
  });
});
