#!/usr/bin/env node
// Stage careful-server: every byte, whatever the network does. Loop on short writes, finish
// the echo after the client's half-close and then close (FIN, never RST), survive a client's
// reset, serve IPv4 and IPv6 clients on ::.
//
// Check it: python3 -m conformance check careful-server lab-guides/starters/careful-server/node
//
// Node does much of this for you. write() never takes part of a chunk: it queues all of it
// and sends it as the client reads (its cost, memory, is the event-loop stage's lesson). The
// half-close is the socket's 'end' event, and with allowHalfOpen false, the default, Node
// then calls end() for us: end() sends our FIN after everything write() has queued, so the
// echo is finished first. The launch code below already listens dual-stack and exits 0 on
// SIGTERM. (The queue there still serves one client at a time.) What is left is errors.
'use strict';

const net = require('node:net');
const { parseArgs, getSystemErrorMap } = require('node:util');

// Serves one client. When the client closes, Node ends our side by itself.
function serve(socket) {
  socket.on('data', (chunk) => socket.write(chunk));
  // TODO(careful-server): a client that resets the connection makes the socket emit 'error'
  // (ECONNRESET, EPIPE), and an 'error' event with no listener crashes the whole server.
  // Listen for it: socket.on('error', (err) => ...) and print one line on stderr naming the
  // peer and reason(err). Node destroys the socket after 'error': that session ends, and
  // only that one. Work out the peer's name first, at the top of serve(): after a reset,
  // socket.remoteAddress is undefined (so say 'a client' then), else use
  // hostPort(socket.remoteAddress, socket.remotePort).
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
