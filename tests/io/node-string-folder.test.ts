// nodeStringFolder (the loaders' strings in Node) with a file:// URL that names no local folder (final review L7):
// Node's raw TypeError (ERR_INVALID_FILE_URL_HOST, …) named neither the source nor what was expected.
import { describe, expect, it } from 'vitest';
import '../../src/node-env.js';
import { InputError, loadModel } from '../../src/model/model.js';
import { nodeStringFolder } from '../../src/io/node-source.js';

describe('nodeStringFolder: a bad file:// URL', () => {
  it.each(['file://host/models/m', 'file:///models/a%2Fb'])('%s: one InputError line naming the source', async (url) => {
    const e = (() => {
      try {
        nodeStringFolder(url);
      } catch (x) {
        return x;
      }
    })() as Error;
    expect(e).toBeInstanceOf(InputError);
    expect(e.message).toMatch(new RegExp(`^${url.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: not a file:// URL of a local folder \\(.+\\); expected file:///absolute/path or a path$`));
    expect(e.message).not.toContain('\n');
    expect((e.cause as Error).name).toBe('TypeError');
    // as the loaders give it
    await expect(loadModel(url)).rejects.toThrow(InputError);
  });

  it('a good file:// URL is still the folder on disk', () => {
    expect(nodeStringFolder('file:///tmp/some%20dir').name).toBe('/tmp/some dir');
  });
});
