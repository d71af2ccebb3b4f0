import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const eslint = new ESLint({ cwd: root });

/** The layering messages ESLint gives for `code` placed at `file` in the repository. */
async function layering(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return result!.messages.filter((m) => m.ruleId === 'layers/layering').map((m) => m.message);
}

describe('the layers of the main process', () => {
  it.each([
    [
      'src-main/links/planted.ts',
      "import { Gateway } from '../gateway/gateway';\nexport { Gateway };\n",
      'src-main/links may not import src-main/gateway',
    ],
    [
      'src-main/store/planted.ts',
      "export { app } from 'electron';\n",
      'src-main/store may not import "electron"',
    ],
    [
      'src-main/gateway/planted.ts',
      "import net from 'node:net';\nexport const s = net;\n",
      'src-main/gateway may not import "node:net"',
    ],
    [
      'src-main/protocols/astm/planted.ts',
      "export * from '../../store/store';\n",
      'src-main/protocols may not import src-main/store',
    ],
    [
      'src-main/service/planted.ts',
      "export const load = () => import('../headless/cli');\n",
      'src-main/service may not import src-main/headless',
    ],
    [
      'src-main/gateway/planted.ts',
      "export type { CommandService } from '../service/types';\n",
      'src-main/gateway may not import src-main/service',
    ],
    [
      'src-main/profiles/planted.ts',
      "export type { GatewayStore } from '../store/store';\n",
      'src-main/profiles may not import src-main/store',
    ],
    [
      'src-main/protocols/astm/planted.ts',
      "export { mapResults } from '../../profiles/mapping';\n",
      'src-main/protocols may not import src-main/profiles',
    ],
  ])('refuses a wrong import in %s', async (file, code, expected) => {
    const messages = await layering(file, code);
    expect(messages).toHaveLength(1);
    expect(messages[0]).toContain(expected);
  });

  it('names the order of the layers when one is skipped', async () => {
    const [message] = await layering(
      'src-main/links/planted.ts',
      "export * from '../store/store';\n",
    );
    expect(message).toContain('the layers go protocols → profiles → links → gateway');
    expect(message).toContain('links may use protocols, system-clock');
  });

  it.each([
    [
      'src-main/gateway/planted.ts',
      "export { createInstrumentLink } from '../links/instrument-link';\n",
    ],
    ['src-main/service/planted.ts', "export type { Gateway } from '../gateway/gateway';\n"],
    ['src-main/links/planted.ts', "import net from 'node:net';\nexport const s = net;\n"],
    ['src-main/headless/planted.ts', "export { createGatewayRuntime } from '../app';\n"],
    ['src-main/store/planted.ts', "export type { Result } from '../../src-shared/results';\n"],
    ['src-main/gateway/planted.ts', "export { readHl7Message } from '../profiles/read-message';\n"],
    [
      'src-main/profiles/planted.ts',
      "export { decodeMessages } from '../protocols/astm/message';\n",
    ],
  ])('allows an import along the order in %s', async (file, code) => {
    expect(await layering(file, code)).toEqual([]);
  });
});
