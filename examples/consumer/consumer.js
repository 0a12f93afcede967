#!/usr/bin/env node
// examples/consumer/consumer.js: a consumer of invoicing's event outbox.
//
// It LISTENs on the channel invoicing_events, reads the events after its
// cursor with invoicing.events_after(cursor, 100) on start and on every
// notification, prints one line per event ("<seq> <type> <object_id>") and
// stores the seq of the last event it handled in a cursor file.  The cursor
// is written after the event is printed (at-least-once: a crash between the
// two prints that event again on the next start; a clean stop repeats and
// misses nothing).
//
//   node consumer.js [--cursor-file PATH] [--max-events N] [--idle-exit MS]
//
// Connection: the standard libpq variables (PGHOST, PGPORT, PGUSER,
// PGDATABASE, PGPASSWORD, ...), read by the pg package.
//
// Options (each also as an environment variable):
//   --cursor-file PATH   INVOICING_CURSOR_FILE   where the cursor is kept
//                                               (default ./invoicing-events.cursor)
//   --max-events N       INVOICING_MAX_EVENTS    exit 0 after handling N events
//   --idle-exit MS       INVOICING_IDLE_EXIT_MS  exit 0 after MS milliseconds
//                                               without a new event
// SIGTERM and SIGINT stop it cleanly: the event being handled is finished
// (printed and its cursor stored), the connection is closed, exit status 0.
// Exit status 1: a database or connection error (restart it: it resumes from
// its cursor); 2: bad arguments or an unreadable cursor file.

'use strict';

const fs = require('fs');
const path = require('path');
const { Client } = require('pg');

const CHANNEL = 'invoicing_events';
const BATCH = 100;

function usage(message) {
  process.stderr.write(`consumer: ${message}\n` +
    'usage: node consumer.js [--cursor-file PATH] [--max-events N] [--idle-exit MS]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    cursorFile: process.env.INVOICING_CURSOR_FILE || 'invoicing-events.cursor',
    maxEvents: process.env.INVOICING_MAX_EVENTS || null,
    idleExitMs: process.env.INVOICING_IDLE_EXIT_MS || null,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    if (arg === '--cursor-file') opts.cursorFile = value();
    else if (arg === '--max-events') opts.maxEvents = value();
    else if (arg === '--idle-exit') opts.idleExitMs = value();
    else if (arg === '-h' || arg === '--help') usage('help');
    else usage(`unknown argument ${arg}`);
  }
  for (const key of ['maxEvents', 'idleExitMs']) {
    if (opts[key] === null || opts[key] === '') { opts[key] = null; continue; }
    if (!/^[0-9]+$/.test(String(opts[key])) || Number(opts[key]) <= 0) {
      usage(`${key === 'maxEvents' ? 'max events' : 'idle exit'} must be a positive integer, not "${opts[key]}"`);
    }
    opts[key] = Number(opts[key]);
  }
  return opts;
}

// The cursor is the seq of the last handled event, as decimal text (seq is a
// bigint: it is kept as a string, never as a JavaScript number).
function readCursor(file) {
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if (err.code === 'ENOENT') return '0';
    usage(`cannot read cursor file ${file}: ${err.message}`);
  }
  const cursor = text.trim();
  if (!/^[0-9]+$/.test(cursor)) usage(`cursor file ${file} does not hold a seq: "${cursor}"`);
  return cursor;
}

// Write the cursor atomically: a temporary file in the same directory, synced,
// then renamed over the old one, so a crash leaves the old or the new cursor.
function writeCursor(file, cursor) {
  const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
  const fd = fs.openSync(tmp, 'w');
  try {
    fs.writeSync(fd, `${cursor}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, file);
}

function log(message) {
  process.stderr.write(`consumer: ${message}\n`);
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  let cursor = readCursor(opts.cursorFile);
  let handled = 0;
  let stopping = false;
  let draining = null;      // the running drain, if any
  let again = false;        // a notification came during a drain
  let idleTimer = null;
  let finish;               // resolves main's wait
  const finished = new Promise((resolve) => { finish = resolve; });

  const client = new Client();
  client.on('error', (err) => {
    log(`connection error: ${err.message}`);
    process.exitCode = 1;
    stop();
  });

  function resetIdle() {
    if (opts.idleExitMs === null) return;
    if (idleTimer) clearTimeout(idleTimer);
    idleTimer = setTimeout(() => {
      log(`idle for ${opts.idleExitMs} ms, exiting`);
      stop();
    }, opts.idleExitMs);
  }

  function stop() {
    if (stopping) return;
    stopping = true;
    if (idleTimer) clearTimeout(idleTimer);
    // a running drain stops after the event it is handling
    Promise.resolve(draining).catch(() => {}).then(finish);
  }

  // Read and handle every event after the cursor, a page at a time.
  async function drainOnce() {
    for (;;) {
      const { rows } = await client.query(
        'SELECT seq::text AS seq, type, object_id FROM invoicing.events_after($1::bigint, $2)',
        [cursor, BATCH]);
      for (const ev of rows) {
        if (stopping) return;
        process.stdout.write(`${ev.seq} ${ev.type} ${ev.object_id}\n`);
        cursor = ev.seq;
        writeCursor(opts.cursorFile, cursor);
        handled++;
        resetIdle();
        if (opts.maxEvents !== null && handled >= opts.maxEvents) {
          log(`handled ${handled} events, exiting`);
          stop();
          return;
        }
      }
      if (rows.length < BATCH || stopping) return;
    }
  }

  // Drains never overlap: a notification during a drain asks for one more.
  function drain() {
    if (stopping) return;
    if (draining) { again = true; return; }
    draining = (async () => {
      try {
        do {
          again = false;
          await drainOnce();
        } while (again && !stopping);
      } catch (err) {
        log(`error: ${err.message}`);
        process.exitCode = 1;
        stop();
      } finally {
        draining = null;
      }
    })();
  }

  process.on('SIGTERM', () => { log('SIGTERM, stopping'); stop(); });
  process.on('SIGINT', () => { log('SIGINT, stopping'); stop(); });

  try {
    await client.connect();
    client.on('notification', (msg) => {
      if (msg.channel === CHANNEL) drain();
    });
    // LISTEN first, then read: an event committed between the two is either
    // in the first read or announced by a notification.
    await client.query(`LISTEN ${CHANNEL}`);
    log(`listening on ${CHANNEL}, cursor ${cursor}`);
  } catch (err) {
    log(`cannot connect or listen: ${err.message}`);
    process.exitCode = 1;
    stopping = true;
    finish();
  }
  if (!stopping) {
    resetIdle();
    drain();
  }

  await finished;
  try {
    await client.end();
  } catch (err) {
    // already closed
  }
  log(`stopped at cursor ${cursor} after ${handled} events`);
}

main().catch((err) => {
  log(`fatal: ${err.stack || err.message}`);
  process.exit(1);
});
