#!/usr/bin/env node
// TCP echo client. Line mode: send each line of stdin, print its echo as "Echoed: '...'".
// --raw: copy stdin to the server and the server to stdout at the same time.
'use strict';

const net = require('node:net');
const { once } = require('node:events');
const { parseArgs, getSystemErrorMap } = require('node:util');

const PROG = 'echo_client';
const USAGE = `usage: ${PROG} [--raw] HOST [PORT]
  HOST   server name, IPv4 or IPv6 address
  PORT   server port (default 2000)
  --raw  copy bytes both ways, no lines`;
const NEWLINE = 0x0a;
const BYE = [Buffer.from('BYE'), Buffer.from('BYE\r')];

function usage(problem) {
  console.error(`${PROG}: ${problem}\n${USAGE}`);
  process.exit(2);
}

function fail(message) {
  console.error(`${PROG}: ${message}`);
  process.exit(1);
}

const hostPort = (host, port) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

// The system's words ('connection refused'); Node's err.message repeats the address. When
// every address of a name fails, Node reports an AggregateError that carries only a code.
const reason = (err) => getSystemErrorMap().get(err.errno)?.[1] ?? err.code ?? err.message;

function parseCommandLine() {
  let parsed;
  try {
    parsed = parseArgs({ options: { raw: { type: 'boolean' } }, allowPositionals: true });
  } catch (err) {
    usage(err.message);
  }
  const [host, port = '2000', ...extra] = parsed.positionals;
  if (host === undefined) usage('missing HOST');
  if (host === '') usage('the host must not be empty');
  if (extra.length > 0) usage(`unexpected argument: '${extra[0]}'`);
  if (!/^\d+$/.test(port) || Number(port) > 65535) usage(`not a port number: '${port}'`);
  return { raw: parsed.values.raw ?? false, host, port: Number(port) };
}

// Lines of a byte stream, without their \n. Buffers, never strings: decoding would alter
// invalid UTF-8, and a chunk may end in the middle of a character or of a line.
async function* lines(stream) {
  let pending = Buffer.alloc(0);
  for await (const chunk of stream) {
    pending = Buffer.concat([pending, chunk]);
    let end;
    while ((end = pending.indexOf(NEWLINE)) !== -1) {
      yield pending.subarray(0, end);
      pending = pending.subarray(end + 1);
    }
  }
  if (pending.length > 0) yield pending; // the last line may lack its \n
}

// Collects what the server sends, so that we can wait for an exact number of bytes however
// the data events cut it. Errors are kept too, and thrown at the next read.
function byteReader(socket) {
  let received = Buffer.alloc(0);
  let closed = null;
  let wake = () => {};
  socket.on('data', (chunk) => {
    received = Buffer.concat([received, chunk]);
    wake();
  });
  // guide:errors-peer-closes begin
  socket.on('end', () => {
    closed ??= new Error('the server closed before the whole echo came back');
    wake();
  });
  // guide:errors-peer-closes end
  // guide:errors-reset begin
  socket.on('error', (err) => {
    closed ??= err;
    wake();
  });
  // guide:errors-reset end
  // guide:errors-host-vanishes begin
  return async function read(count) {
    while (received.length < count) {
      if (closed) throw closed;
      await new Promise((resolve) => (wake = resolve));
    }
  // guide:errors-host-vanishes end
    const bytes = received.subarray(0, count);
    received = received.subarray(count);
    return bytes;
  };
}

async function lineMode(socket, server) {
  const read = byteReader(socket);
  const prompt = () => {
    if (process.stdin.isTTY) process.stdout.write('Enter line:');
  };
  prompt();
  try {
    for await (const line of lines(process.stdin)) {
      if (BYE.some((bye) => bye.equals(line))) break;
      socket.write(Buffer.concat([line, Buffer.of(NEWLINE)]));
      const echo = await read(line.length + 1);
      const shown = echo.subarray(0, -1); // without its final \n
      process.stdout.write(Buffer.concat([Buffer.from("Echoed: '"), shown, Buffer.from("'\n")]));
      prompt();
    }
  } catch (err) {
    fail(`connection to ${server} lost: ${reason(err)}`);
  }
  // Our FIN once the queue is written, then the socket is gone: nothing more is expected.
  socket.destroySoon();
}

function rawMode(socket, server) {
  // pipe() reads only as fast as the other side takes, and ends the socket at the end of
  // stdin: that is the half-close, after which the server finishes the echo and closes.
  process.stdin.pipe(socket);
  socket.pipe(process.stdout);
  // The server has closed: done, even if stdin has more. A write to a full stdout pipe is
  // queued, not synchronous, so exit only once everything queued before this write is out.
  socket.on('end', () => process.stdout.write('', () => process.exit(0)));
  socket.on('error', (err) => fail(`connection to ${server} lost: ${reason(err)}`));
}

async function main() {
  // guide:errors-refused begin
  // guide:errors-unknown-host begin
  const { raw, host, port } = parseCommandLine();
  const server = hostPort(host, port);
  const socket = net.createConnection({ host, port, allowHalfOpen: raw });
  try {
    await once(socket, 'connect');
  } catch (err) {
    fail(`cannot connect to ${server}: ${reason(err)}`);
  }
  // guide:errors-refused end
  // guide:errors-unknown-host end
  if (raw) rawMode(socket, server);
  else await lineMode(socket, server);
}

main();
