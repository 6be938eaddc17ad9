/*
 * Run a function locally on an event file, as DevRev would run it:
 *   node dist/main.js --functionName ticket_creator --fixturePath src/fixtures/timer_tick.json
 * The file holds a JSON array of events (or one event). A bare file name is looked up in src/fixtures.
 */

import { existsSync, readFileSync } from 'fs';
import { join, resolve } from 'path';

import { functionFactory, FunctionFactoryType } from './function-factory';

function argument(name: string): string | undefined {
  const args = process.argv.slice(2);
  for (let i = 0; i < args.length; i += 1) {
    if (args[i] === `--${name}`) return args[i + 1];
    if (args[i].startsWith(`--${name}=`)) return args[i].slice(name.length + 3);
  }
  return undefined;
}

async function main(): Promise<number> {
  const functionName = argument('functionName');
  const fixturePath = argument('fixturePath');
  if (!functionName || !fixturePath) {
    console.error('usage: node dist/main.js --functionName <name> --fixturePath <events.json>');
    return 2;
  }
  if (!(functionName in functionFactory)) {
    console.error(`${functionName} is not in function-factory.ts (${Object.keys(functionFactory).join(', ')})`);
    return 2;
  }
  const path = existsSync(fixturePath) ? resolve(fixturePath) : join(__dirname, '..', 'src', 'fixtures', fixturePath);
  const parsed = JSON.parse(readFileSync(path, 'utf-8'));
  await functionFactory[functionName as FunctionFactoryType](Array.isArray(parsed) ? parsed : [parsed]);
  return 0;
}

main().then((code) => { process.exitCode = code; }, (e) => {
  console.error(e);
  process.exitCode = 1;
});
