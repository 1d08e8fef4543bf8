#!/usr/bin/env node
// Stage echo-server: echo one client at a time. Accept a connection, send back every byte it
// sends, as soon as it arrives, until it closes; then serve the next.
//
// Check it: python3 -m conformance check echo-server lab-guides/starters/echo-server/node
//
// Node serves every connection at once from the start: one event loop calls back whichever
// socket has something to do, and there is no blocking accept() to sit in. To serve one
// client at a time, as this stage asks, the code at the bottom keeps each new connection
// paused in a queue (its bytes wait in the kernel, as in a blocking server's backlog) and
// starts the next when the current one closes.
'use strict';

const net = require('node:net');
const { parseArgs, getSystemErrorMap } = require('node:util');

// Serves one client. When the client closes, Node ends our side by itself.
function serve(socket) {
  // TODO(echo-server): send back every chunk the client sends, as soon as it arrives:
  // socket.on('data', (chunk) => ...) is called with a Buffer of whatever has arrived (part
  // of a line, or several); socket.write(chunk) sends it back. Then delete the end() below,
  // which stands in for all that: it closes the connection at once.
  socket.end();
}

// --- the launch contract: arguments, listening, readiness line, signals (already done) ---

const PROG = 'echo_server';
const USAGE = `usage: ${PROG} [--host HOST] [--port PORT]
  --host HOST  address to listen on (default ::, which takes IPv4 too)
  --port PORT  port, 0 for any free one (default 2000)
example: node echo_server.js --port 2000`;

function usage(problem) {
  console.error(`${PROG}: ${problem}\n${USAGE}`);
  process.exit(2);
}

// '[::1]:2000' or '127.0.0.1:2000': brackets keep an IPv6 address apart from its port.
const hostPort = (host, port) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

// The system's words ('address already in use'), not Node's 'listen EADDRINUSE ...'.
const reason = (err) => getSystemErrorMap().get(err.errno)?.[1] ?? err.code ?? err.message;

function parseOptions() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        host: { type: 'string', default: '::' },
        port: { type: 'string', default: '2000' },
      },
    }));
  } catch (err) {
    usage(err.message);
  }
  if (values.host === '') usage('the host must not be empty');
  if (!/^\d+$/.test(values.port) || Number(values.port) > 65535) {
    usage(`not a port number: '${values.port}'`);
  }
  return { host: values.host, port: Number(values.port) };
}

const waiting = []; // connections accepted while another is served, paused
let busy = false;

function serveNext() {
  if (busy || waiting.length === 0) return;
  busy = true;
  const socket = waiting.shift();
  socket.on('close', () => {
    busy = false;
    serveNext();
  });
  serve(socket);
  socket.resume();
}

const { host, port } = parseOptions();
const server = net.createServer({ pauseOnConnect: true }, (socket) => {
  waiting.push(socket);
  serveNext();
});
server.on('error', (err) => {
  console.error(`${PROG}: cannot listen on ${hostPort(host, port)}: ${reason(err)}`);
  process.exit(1);
});
// ipv6Only false: on :: IPv4 clients arrive too, as ::ffff:a.b.c.d.
server.listen({ host, port, ipv6Only: false }, () => {
  const { address, port: bound } = server.address();
  console.log(`listening on ${hostPort(address, bound)}`); // a pipe: written at once
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => process.exit(0));
