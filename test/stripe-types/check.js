#!/usr/bin/env node
// test/stripe-types/check.js: type-check invoicing's JSON against the
// stripe package's TypeScript types (see types.ts for what is checked).
//
//   node check.js OBJECTS.tsv [REPORT]
//
// OBJECTS.tsv: one object a line, "<name>\t<kind>\t<json>", where kind is a
// key of Exact in types.ts (invoice, invoice_payment, ..., or an event type).
// For each object it writes gen/<name>.ts:
//
//   import type { Checked } from '../types';
//   export const value: Checked['<kind>'] = <the JSON>;
//
// and compiles all of them with tsc (strict).  Any diagnostic is a failure:
// a key Stripe's type does not have, or a value of the wrong type.
// Negative controls (objects with a known mistake) must each fail, so the
// check cannot pass vacuously.
//
// It also lists, per kind and per nested object, the keys Stripe's type
// requires that invoicing does not produce (report only, never a failure),
// and writes that list to REPORT when given.
//
// Exit status: 0 pass, 1 type errors or a negative control that passed,
// 2 bad input.

'use strict';

const fs = require('fs');
const path = require('path');
const ts = require('typescript');

const HERE = __dirname;
const GEN = path.join(HERE, 'gen');

function die(message) {
  process.stderr.write(`check.js: ${message}\n`);
  process.exit(2);
}

// ---- input
const [tsvArg, reportArg] = process.argv.slice(2);
if (!tsvArg) die('usage: node check.js OBJECTS.tsv [REPORT]');
const tsvFile = path.resolve(tsvArg);
const reportFile = reportArg ? path.resolve(reportArg) : null;
// compile from here, so that tsc finds node_modules/@types as `tsc -p .` does
process.chdir(HERE);
const rows = fs.readFileSync(tsvFile, 'utf8').split('\n').filter((l) => l.length > 0).map((line, i) => {
  const parts = line.split('\t');
  if (parts.length !== 3) die(`${tsvFile}:${i + 1}: expected 3 tab-separated fields`);
  const [name, kind, json] = parts;
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) die(`${tsvFile}:${i + 1}: bad name ${name}`);
  let value;
  try {
    value = JSON.parse(json);
  } catch (err) {
    die(`${tsvFile}:${i + 1}: ${name}: not JSON: ${err.message}`);
  }
  return { name, kind, value };
});
if (rows.length === 0) die(`${tsvFile}: no objects`);

// ---- negative controls: each must produce at least one diagnostic
// (a control is a copy of the first object of its kind with one mistake; it
// is conclusive only when that object itself type-checks)
const negatives = [];
function negative(name, kind, mutate) {
  const base = rows.find((x) => x.kind === kind);
  if (!base) die(`no ${kind} object in the input (needed for the negative controls)`);
  const value = structuredClone(base.value);
  mutate(value);
  negatives.push({ name: `neg_${name}`, kind, value, base: base.name });
}
negative('invoice_unknown_key', 'invoice', (o) => { o.not_a_stripe_key = 1; });
negative('invoice_nested_unknown_key', 'invoice', (o) => { o.status_transitions.not_a_stripe_key = null; });
negative('invoice_amount_as_string', 'invoice', (o) => { o.amount_due = String(o.amount_due); });
negative('invoice_null_amount', 'invoice', (o) => { o.total = null; });
negative('invoice_bad_status', 'invoice', (o) => { o.status = 'closed'; });
negative('invoice_metadata_number', 'invoice', (o) => { o.metadata = { n: 1 }; });
negative('invoice_payment_unknown_payment_key', 'invoice_payment', (o) => { o.payment.bank_transfer = 'x'; });
negative('invoice_payment_record_with_intent', 'invoice_payment', (o) => {
  o.payment = { type: 'payment_record', payment_intent: 'pi_x' };
});
negative('credit_note_bad_type', 'credit_note', (o) => { o.type = 'partial'; });
negative('credit_note_refund_unknown_key', 'credit_note', (o) => {
  o.refunds = [{ amount_refunded: 1, refund: 're_x', not_a_stripe_key: 1 }];
});
negative('invoice_payments_item_unknown_key', 'invoice', (o) => {
  o.payments = { object: 'list', data: [{ id: 'inpay_x', not_a_stripe_key: 1 }], has_more: false, url: '/v1/x' };
});
negative('balance_transaction_bad_type', 'customer_balance_transaction', (o) => { o.type = 'refund'; });
negative('payment_intent_bad_status', 'payment_intent', (o) => { o.status = 'paid'; });
negative('event_unknown_key', 'invoice.paid', (o) => { o.not_a_stripe_key = true; });
negative('event_data_unknown_key', 'invoice.updated', (o) => { o.data.not_a_stripe_key = {}; });
negative('event_object_unknown_key', 'invoice.updated', (o) => { o.data.object.not_a_stripe_key = 1; });
negative('event_bad_request', 'invoice.paid', (o) => { o.request = { id: 0 }; });
negative('event_previous_attributes_bad_type', 'invoice.updated', (o) => {
  o.data.previous_attributes = { amount_paid: 'zero' };
});

// ---- generate the sources
fs.rmSync(GEN, { recursive: true, force: true });
fs.mkdirSync(GEN);
const all = rows.concat(negatives);
const files = new Map();  // file name -> row
for (const row of all) {
  const file = path.join(GEN, `${row.name}.ts`);
  if (files.has(file)) die(`duplicate name ${row.name}`);
  const header = `import type { Checked, Exact } from '../types';\n`
    + `// ${row.kind}\n`
    + `export const value: Checked[${JSON.stringify(row.kind)}] = `;
  const source = header + JSON.stringify(row.value, null, 2) + ';\n'
    + `export declare const exact: Exact[${JSON.stringify(row.kind)}];\n`;
  fs.writeFileSync(file, source);
  files.set(file, row);
}

// ---- compile
const configFile = path.join(HERE, 'tsconfig.json');
const config = ts.readConfigFile(configFile, ts.sys.readFile);
if (config.error) die(ts.flattenDiagnosticMessageText(config.error.messageText, '\n'));
const { options, errors } = ts.parseJsonConfigFileContent(config.config, ts.sys, HERE);
if (errors.length > 0) die(errors.map((e) => ts.flattenDiagnosticMessageText(e.messageText, '\n')).join('\n'));
const program = ts.createProgram([path.join(HERE, 'types.ts'), ...files.keys()], options);
const checker = program.getTypeChecker();
const diagnostics = ts.getPreEmitDiagnostics(program);

const byFile = new Map();
const global = [];
for (const d of diagnostics) {
  if (!d.file) { global.push(d); continue; }
  const list = byFile.get(d.file.fileName) || [];
  list.push(d);
  byFile.set(d.file.fileName, list);
}

function describe(d) {
  const msg = ts.flattenDiagnosticMessageText(d.messageText, '\n    ');
  if (!d.file || d.start === undefined) return `TS${d.code}: ${msg}`;
  const { line } = d.file.getLineAndCharacterOfPosition(d.start);
  const text = d.file.text.split('\n')[line].trim();
  return `line ${line + 1}: ${text}\n    TS${d.code}: ${msg}`;
}

let failed = false;
for (const d of global) {
  failed = true;
  console.log(`FAIL (global): ${describe(d)}`);
}
const typesFile = path.join(HERE, 'types.ts');
for (const d of byFile.get(typesFile) || []) {
  failed = true;
  console.log(`FAIL types.ts: ${describe(d)}`);
}
let passed = 0;
for (const [file, row] of files) {
  const diags = byFile.get(file) || [];
  const isNegative = row.name.startsWith('neg_');
  if (isNegative) {
    const baseFile = path.join(GEN, `${row.base}.ts`);
    if ((byFile.get(baseFile) || []).length > 0) {
      console.log(`??   ${row.name}: inconclusive, its base object ${row.base} does not type-check`);
    } else if (diags.length === 0) {
      failed = true;
      console.log(`FAIL ${row.name}: a negative control type-checks (the check is not strict enough)`);
    } else {
      console.log(`ok   ${row.name}: rejected as it must be (TS${diags[0].code})`);
    }
    continue;
  }
  if (diags.length > 0) {
    failed = true;
    console.log(`FAIL ${row.name} (${row.kind}), gen/${row.name}.ts:`);
    for (const d of diags) console.log(`  ${describe(d)}`);
  } else {
    passed++;
  }
}
console.log(`${passed} of ${rows.length} objects type-check against stripe's types`);

// ---- required keys of Stripe's types that invoicing does not produce
// Walk each object's JSON alongside Exact[kind]: at every JSON object, the
// required (non-optional) properties of the matching Stripe object type that
// the JSON lacks.
function exactType(file) {
  const sf = program.getSourceFile(file);
  let found;
  sf.forEachChild(function visit(node) {
    if (ts.isVariableDeclaration(node) && node.name.getText(sf) === 'exact') found = node;
    node.forEachChild(visit);
  });
  return checker.getTypeAtLocation(found);
}

function objectMembers(type) {
  const t = checker.getNonNullableType(type);
  const members = t.isUnion() ? t.types : [t];
  return members.filter((m) => (m.flags & ts.TypeFlags.Object) !== 0 || m.isIntersection());
}

// the string literal values a member's key can take (empty: not literals)
function literalsOf(type, key) {
  const prop = type.getProperty(key);
  if (!prop) return [];
  const pt = checker.getNonNullableType(checker.getTypeOfSymbol(prop));
  return (pt.isUnion() ? pt.types : [pt]).filter((m) => m.isStringLiteral()).map((m) => m.value);
}

// the member of a union that a JSON object is: by its "object" or "type" key
function pick(type, json) {
  const members = objectMembers(type);
  if (members.length <= 1) return members[0];
  for (const key of ['object', 'type']) {
    if (typeof json[key] !== 'string') continue;
    const hit = members.find((m) => literalsOf(m, key).includes(json[key]));
    if (hit) return hit;
  }
  return members[0];
}

// Stripe type -> { keys: Set of missing required keys, where: Set of paths }
const missing = new Map();
function walk(type, json, where) {
  if (Array.isArray(json)) {
    const t = checker.getNonNullableType(type);
    const elem = (t.isUnion() ? t.types : [t])
      .map((m) => checker.getIndexTypeOfType(m, ts.IndexKind.Number)).find(Boolean);
    if (elem) json.forEach((item) => walk(elem, item, `${where}[]`));
    return;
  }
  if (json === null || typeof json !== 'object') return;
  const t = pick(type, json);
  if (!t) return;
  // "Stripe.X"; types.ts's Invoice and InvoicePayment are Stripe's with the
  // payment_record exception, and are reported under Stripe's names
  const name = checker.typeToString(t, undefined, ts.TypeFormatFlags.NoTruncation
    | ts.TypeFormatFlags.UseFullyQualifiedType)
    .replace(/^import\("stripe"\)\./, '')
    .replace(/^import\("[^"]*\/types"\)\./, 'Stripe.');
  const entry = missing.get(name) || { keys: new Set(), where: new Set() };
  missing.set(name, entry);
  entry.where.add(where);
  for (const prop of t.getProperties()) {
    const key = prop.getName();
    const optional = (prop.flags & ts.SymbolFlags.Optional) !== 0;
    if (!(key in json)) {
      if (!optional) entry.keys.add(key);
      continue;
    }
    walk(checker.getTypeOfSymbol(prop), json[key], `${where}.${key}`);
  }
}
for (const [file, row] of files) {
  if (row.name.startsWith('neg_')) continue;
  walk(exactType(file), row.value, row.kind);
}
const lines = [];
for (const [name, { keys, where }] of [...missing].sort((a, b) => a[0].localeCompare(b[0]))) {
  if (keys.size === 0) continue;
  lines.push(`${name} (${keys.size} keys; at ${[...where].sort().join(', ')}):\n    ${[...keys].sort().join(' ')}`);
}
const report = '# Keys Stripe\'s types (stripe 18.2.x, API 2025-05-28.basil) require that\n'
  + '# invoicing does not produce (report only, not a failure)\n' + lines.join('\n') + '\n';
if (reportFile) fs.writeFileSync(reportFile, report);
console.log(`---- required Stripe keys not produced (report only)\n${lines.join('\n')}`);

if (failed) {
  console.log('stripe types: FAIL');
  process.exit(1);
}
console.log('stripe types: ok');
