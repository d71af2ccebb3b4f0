import { readFileSync } from 'node:fs';
import { parseGatewayConfig, type GatewayConfig } from '../../src-shared/config';
import { UsageError } from './cli-support';

/** Reads and validates a gateway config file; every problem names its field. Exit code 2. */
export function loadConfigFile(file: string): GatewayConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      `config: cannot read "${file}": ${code === 'ENOENT' ? 'no such file' : String(error)}`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config: "${file}" is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = parseGatewayConfig(json);
  if (!parsed.ok) {
    const lines = parsed.problems.map((p) => `  ${p.field}: ${p.message}`);
    throw new UsageError(
      `config: "${file}" has ${lines.length === 1 ? 'a problem' : `${lines.length} problems`}:\n${lines.join('\n')}`,
    );
  }
  return parsed.config;
}
