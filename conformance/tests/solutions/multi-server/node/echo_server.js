#!/usr/bin/env node
// Stage multi-server: many clients at once. In the other languages that takes a thread (or a
// goroutine, a task) per connection.
//
// Check it: python3 -m conformance check multi-server lab-guides/starters/multi-server/node
//
// Node needs none: its one event loop already waits on every socket at once and calls back
// whichever has something to do, and each connection's state lives in its own callbacks, as
// a thread's lives on its own stack. The queue below is all that makes this server serve one
// client at a time.
'use strict';

const net = require('node:net');
const { parseArgs, getSystemErrorMap } = require('node:util');

// Serves one client. When the client closes, Node ends our side by itself.
function serve(socket) {
  // Named now: once the client has reset, remoteAddress is undefined.
  const { remoteAddress, remotePort } = socket;
  const peer = remoteAddress ? hostPort(remoteAddress, remotePort) : 'a client';
  socket.on('data', (chunk) => socket.write(chunk));
  // A reset or a broken pipe ends this session only: Node destroys the socket after 'error'.
  socket.on('error', (err) => console.error(`${PROG}: ${peer}: ${reason(err)}`));
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

const { host, port } = parseOptions();
// Every connection is served at once: serve() never blocks, so the loop is free for others.
const server = net.createServer(serve);
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
