/**
 * Writes one JSON Schema per event type into contracts/schemas/, so readers of the topics that are not
 * written in TypeScript can validate. `--check` fails when the committed files are out of date.
 */
import { readFileSync, writeFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildJsonSchemas } from '../src/json-schema';

const outDir = join(__dirname, '..', 'schemas');
const check = process.argv.includes('--check');
const files = buildJsonSchemas();
let stale = 0;
mkdirSync(outDir, { recursive: true });
for (const [name, schema] of Object.entries(files)) {
  const path = join(outDir, name);
  const text = `${JSON.stringify(schema, null, 2)}\n`;
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '';
  if (current === text) continue;
  stale++;
  if (check) console.error(`stale: contracts/schemas/${name}`);
  else writeFileSync(path, text);
}
for (const name of readdirSync(outDir)) {
  if (!(name in files)) {
    stale++;
    console.error(`not generated from any schema: contracts/schemas/${name}`);
  }
}
if (check && stale > 0) {
  console.error('run `npm run contracts:generate` and commit the result');
  process.exit(1);
}
console.log(check ? 'contracts/schemas is up to date' : `wrote ${Object.keys(files).length} schemas`);
