// --out of generate, forward, decode and encode writes safetensors: a name ending in another extension is refused
// before any work, as --preview and --video refuse theirs (user22 finding 15: `generate --out a.txt` wrote a
// safetensors file named .txt). A name without an extension is still taken.
import { describe, expect, it } from 'vitest';
import { checkOutIsSafetensors } from '../../src/cli/outputs.js';
import { UsageError } from '../../src/cli/args.js';

function refusal(command: string, path: string): string | undefined {
  try {
    checkOutIsSafetensors(command, path);
    return undefined;
  } catch (e) {
    expect(e).toBeInstanceOf(UsageError);
    return (e as Error).message;
  }
}

describe('--out must be named .safetensors', () => {
  it('another extension is refused in one line naming the flag, the path and what it must end in', () => {
    for (const command of ['generate', 'forward', 'decode', 'encode']) {
      expect(refusal(command, '/tmp/u22/a.txt')).toBe('--out /tmp/u22/a.txt: --out writes safetensors, so the name must end in .safetensors (not .txt)');
      expect(refusal(command, 'o.BIN')).toBe('--out o.BIN: --out writes safetensors, so the name must end in .safetensors (not .BIN)');
    }
    expect(refusal('generate', 'latents.npy')).toMatch(/must end in \.safetensors \(not \.npy\)$/);
  });
  it('.safetensors (any case) and a name without an extension are taken; media names keep their pointer to the flag', () => {
    for (const p of ['a.safetensors', 'dir.x/a.SafeTensors', 'out', '/tmp/dir.d/o']) expect(refusal('generate', p)).toBeUndefined();
    expect(refusal('generate', 'x.gif')).toBe('--out x.gif: --out writes safetensors (name it .safetensors); for an animated GIF give --preview FILE.gif');
  });
});
