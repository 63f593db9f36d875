// The loaders' `unexpectedKeys` option has a named type that users can import from the package entries (the
// Node one, `tessera`, and the browser one), as they import LoadOptions: 'error' | 'warn', the same type every
// loader's option takes. The checks are types: `npx tsc --noEmit -p .` fails on a wrong or missing one.
import { describe, expectTypeOf, it } from 'vitest';
import type { LoadOptions, PipelineLoadOptions, TextEncoderLoadOptions, UnexpectedKeys } from '../../src/index.js';
import type { UnexpectedKeys as BrowserUnexpectedKeys } from '../../src/index.browser.js';
import type { UnexpectedKeys as ApiUnexpectedKeys } from '../../src/api.js';

describe('UnexpectedKeys', () => {
  it("is 'error' | 'warn' from every entry, and the type of each loader's unexpectedKeys", () => {
    expectTypeOf<UnexpectedKeys>().toEqualTypeOf<'error' | 'warn'>();
    expectTypeOf<BrowserUnexpectedKeys>().toEqualTypeOf<UnexpectedKeys>();
    expectTypeOf<ApiUnexpectedKeys>().toEqualTypeOf<UnexpectedKeys>();
    expectTypeOf<LoadOptions['unexpectedKeys']>().toEqualTypeOf<UnexpectedKeys | undefined>();
    expectTypeOf<PipelineLoadOptions['unexpectedKeys']>().toEqualTypeOf<UnexpectedKeys | undefined>();
    expectTypeOf<TextEncoderLoadOptions['unexpectedKeys']>().toEqualTypeOf<UnexpectedKeys | undefined>();
  });
});
