// Validate every reply the integration tests recorded (itest.h's
// it_record(), one JSON line per reply in $ITEST_RECORD_DIR/*.jsonl)
// against httpd/openapi.json, so that the document cannot drift from what
// the server sends.
//
//   node validate.mjs <openapi.json> <record dir>
//
// For each reply: find the operation by path (query string dropped) and
// method, then the response by status.  A status the operation does not
// list fails; so does a JSON body that does not match the response's
// schema (each line of an NDJSON stream), and a JSON body not sent as
// application/json.  Paths and methods the document does not serve (and
// raw replies to malformed requests) must be errors with the Error body.
// Fails when no JSON body was recorded at all: then nothing was checked.
import fs from 'node:fs';
import path from 'node:path';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const [docPath, dir] = process.argv.slice(2);
if (!docPath || !dir) {
  console.error('usage: node validate.mjs <openapi.json> <record dir>');
  process.exit(2);
}
const doc = JSON.parse(fs.readFileSync(docPath, 'utf8'));
// strict: unknown keywords in our schemas are errors too.  OpenAPI's own
// "example" keyword is declared, since schemas may carry examples.
const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addKeyword('example');
// The document's own top-level members are not schema keywords.
ajv.addVocabulary(Object.keys(doc).filter((k) => k !== '$id'));
addFormats(ajv);
// The whole document as one schema, so that "#/components/..." $refs
// resolve; each response schema is reached through a JSON pointer.
ajv.addSchema({ ...doc, $id: 'openapi.json' }, 'openapi.json');
const validators = new Map();

function pointer(parts) {
  return parts.map((p) => String(p).replaceAll('~', '~0').replaceAll('/', '~1')).join('/');
}

function validatorFor(parts) {
  const key = pointer(parts);
  if (!validators.has(key)) {
    const v = ajv.getSchema(`openapi.json#/${key}`);
    if (!v) throw new Error(`no schema at #/${key}`);
    validators.set(key, v);
  }
  return validators.get(key);
}

// A response object and the JSON pointer parts of where it is, following
// $refs into components.responses.
function deref(obj, parts) {
  while (obj && obj.$ref) {
    parts = obj.$ref.replace(/^#\//, '').split('/').map((p) => p.replaceAll('~1', '/').replaceAll('~0', '~'));
    obj = parts.reduce((o, p) => o[p], doc);
  }
  return [obj, parts];
}

const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.jsonl')) : [];
let replies = 0, checked = 0;
const failures = [];
const byOp = new Map();

for (const f of files) {
  const lines = fs.readFileSync(path.join(dir, f), 'utf8').split('\n').filter(Boolean);
  for (const line of lines) {
    const rec = JSON.parse(line);
    replies++;
    const where = `${rec.method} ${rec.path} -> ${rec.status} (${f})`;
    const fail = (why) => failures.push(`${where}: ${why}\n  body: ${rec.body.slice(0, 600)}`);
    const p = rec.path.split('?')[0];
    const method = rec.method.toLowerCase();
    const ctype = (rec.content_type || '').split(';')[0].trim();
    let json;
    try { json = rec.body.length ? JSON.parse(rec.body) : undefined; } catch { json = undefined; }
    if (json !== undefined && ctype !== 'application/json' && ctype !== 'application/x-ndjson' &&
        ctype !== 'text/event-stream')
      fail(`a JSON body sent as Content-Type "${rec.content_type}"`);

    const item = doc.paths[p];
    const op = item && item[method === 'head' ? 'get' : method];
    let parts;
    if (!op) {
      // Not served: must be an error reply.
      if (rec.status < 400) { fail('success for a path or method the document does not serve'); continue; }
      parts = ['components', 'schemas', 'Error'];
    } else {
      let resp = op.responses[String(rec.status)];
      if (!resp) { fail(`status ${rec.status} is not in the document's responses for ${method.toUpperCase()} ${p}`); continue; }
      const opKey = `${method.toUpperCase()} ${p} ${rec.status}`;
      byOp.set(opKey, (byOp.get(opKey) || 0) + 1);
      let base;
      [resp, base] = deref(resp, ['paths', p, method === 'head' ? 'get' : method, 'responses', String(rec.status)]);
      if (method === 'head' || rec.body.length === 0) continue;
      const media = resp.content && resp.content[ctype];
      if (!media) { fail(`Content-Type "${ctype}" is not documented for this response`); continue; }
      parts = [...base, 'content', ctype, 'schema'];
      if (ctype === 'application/x-ndjson') {
        // One value per complete line; blank lines are keep-alives, and
        // the last line may have been cut off when the test stopped reading.
        const v = validatorFor(parts);
        const lines = rec.body.split('\n').slice(0, -1);
        for (const [i, l] of lines.entries()) {
          if (!l.trim()) continue;
          let val;
          try { val = JSON.parse(l); } catch { fail(`line ${i + 1} is not JSON: ${l.slice(0, 200)}`); continue; }
          checked++;
          if (!v(val))
            fail(`line ${i + 1} does not match #/${parts.join('/')}:\n  ` +
              v.errors.map((e) => `${e.instancePath || '(root)'} ${e.message}`).join('\n  '));
        }
        continue;
      }
      if (ctype !== 'application/json') continue; // text/plain metrics, SSE
    }
    if (json === undefined) { fail('the body is not JSON'); continue; }
    const v = validatorFor(parts);
    checked++;
    if (!v(json))
      fail('does not match #/' + parts.join('/') + ':\n  ' +
        v.errors.map((e) => `${e.instancePath || '(root)'} ${e.message}` +
          (e.params && Object.keys(e.params).length ? ' ' + JSON.stringify(e.params) : '')).join('\n  '));
  }
}

for (const f of failures) console.error('openapi: ' + f);
console.log(`openapi: ${replies} replies recorded, ${checked} JSON bodies validated against ${docPath}, ` +
  `${byOp.size} operation/status pairs seen, ${failures.length} failures`);
if (checked === 0) {
  console.error('openapi: no JSON body was recorded: nothing was validated (is ITEST_RECORD_DIR set?)');
  process.exit(1);
}
process.exit(failures.length ? 1 : 0);
