#!/usr/bin/env node
// Stage line-client: the chapter's client, fixed. Read stdin line by line, send each line with
// its newline, wait for the whole echo (however the stream splits it), print Echoed: 'L'. A
// line BYE (or BYE\r) ends the session unsent; end of input closes and exits 0; failing to
// connect or losing the connection: one line on stderr, exit 1.
//
// Check it: python3 -m conformance check line-client lab-guides/starters/line-client/node
'use strict';

const net = require('node:net');
const { once } = require('node:events');
const { parseArgs, getSystemErrorMap } = require('node:util');

// The lines of stdin, as Buffers without their \n. Bytes, not strings: decoding would change
// invalid UTF-8 (and readline would also cut lines at a lone \r), and one chunk of stdin can
// end in the middle of a line, or of a character.
async function* lines(input) {
  let rest = Buffer.alloc(0);
  for await (const chunk of input) {
    rest = Buffer.concat([rest, chunk]);
    let end;
    while ((end = rest.indexOf('\n')) !== -1) {
      yield rest.subarray(0, end);
      rest = rest.subarray(end + 1);
    }
  }
  if (rest.length > 0) yield rest; // the last line may lack its \n
}

const BYE = Buffer.from('BYE');
const BYE_CR = Buffer.from('BYE\r');
const NEWLINE = Buffer.from('\n');

// The line-mode session. A promise rejected means the connection was lost.
async function talk(socket) {
  const replies = socket[Symbol.asyncIterator]();
  let received = Buffer.alloc(0); // what the server has sent and we have not printed
  const prompt = () => {
    if (process.stdin.isTTY) process.stdout.write('Enter line:');
  };
  prompt();
  for await (const line of lines(process.stdin)) {
    if (line.equals(BYE) || line.equals(BYE_CR)) break;
    socket.write(Buffer.concat([line, NEWLINE]));
    // The 'data' chunks can cut the echo anywhere: gather them until it is all there.
    while (received.length < line.length + 1) {
      const { value, done } = await replies.next(); // rejects if the connection fails
      if (done) throw new Error('the server closed before the whole echo came back');
      received = Buffer.concat([received, value]);
    }
    const echo = received.subarray(0, line.length); // without its \n
    received = received.subarray(line.length + 1);
    process.stdout.write(Buffer.concat([Buffer.from("Echoed: '"), echo, Buffer.from("'\n")]));
    prompt();
  }
  // Our FIN once everything written is out; then the socket is gone: nothing more is expected.
  socket.destroySoon();
}

// --- the launch contract: arguments, connecting, errors (already done) ---

const PROG = 'echo_client';
const USAGE = `usage: ${PROG} HOST [PORT]
  HOST  server name, IPv4 or IPv6 address
  PORT  server port (default 2000)
example: node echo_client.js ::1 2000`;

function usage(problem) {
  console.error(`${PROG}: ${problem}\n${USAGE}`);
  process.exit(2);
}

// '[::1]:2000' or '127.0.0.1:2000': brackets keep an IPv6 address apart from its port.
const hostPort = (host, port) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

// The system's words ('connection refused'), not Node's 'connect ECONNREFUSED ...'.
const reason = (err) => getSystemErrorMap().get(err.errno)?.[1] ?? err.code ?? err.message;

function parseCommandLine() {
  let positionals;
  try {
    ({ positionals } = parseArgs({ options: {}, allowPositionals: true }));
  } catch (err) {
    usage(err.message);
  }
  const [host, port = '2000', ...extra] = positionals;
  if (host === undefined) usage('missing HOST');
  if (host === '') usage('the host must not be empty');
  if (extra.length > 0) usage(`unexpected argument: '${extra[0]}'`);
  if (!/^\d+$/.test(port) || Number(port) > 65535) usage(`not a port number: '${port}'`);
  return { host, port: Number(port) };
}

async function main() {
  const { host, port } = parseCommandLine();
  const server = hostPort(host, port);
  // Tries every address the name has, IPv6 and IPv4, until one connects.
  const socket = net.connect({ host, port, autoSelectFamily: true });
  try {
    await once(socket, 'connect'); // rejects on the socket's 'error'
  } catch (err) {
    console.error(`${PROG}: cannot connect to ${server}: ${reason(err)}`);
    process.exit(1);
  }
  try {
    await talk(socket);
  } catch (err) {
    console.error(`${PROG}: connection to ${server} lost: ${reason(err)}`);
    process.exit(1);
  }
}

main();
