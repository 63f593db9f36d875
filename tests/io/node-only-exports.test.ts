// README names the exports that only the Node entry has (a bundler-resolved Node project without
// customConditions ["node"] gets the browser types and TS2305 / TS2724 for them): the list must be that set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as browserEntry from '../../src/index.browser.js';
import * as nodeEntry from '../../src/index.js';

describe("README's list of Node-only exports", () => {
  it('is exactly what the Node entry exports and the browser entry does not', () => {
    const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8').replace(/\s+/g, ' ');
    const list = /which lack the Node-only exports \(([^:]*): TypeScript [^:]*print `error TS2305/.exec(readme)?.[1];
    expect(list, 'the sentence listing them').toBeDefined();
    const listed = [...list!.matchAll(/`([^`]+)`/g)].map((m) => m[1]).sort();
    const nodeOnly = Object.keys(nodeEntry).filter((k) => !(k in browserEntry)).sort();
    expect(listed).toEqual(nodeOnly);
  });
});
