#!/usr/bin/env node
// Stage event-loop-server: one thread, non-blocking sockets and a readiness loop, with bounded
// buffers and backpressure.
//
// Check it: python3 -m conformance check event-loop-server lab-guides/starters/event-loop-server/node
//
// In Node there is no readiness loop to write: net already is one (libuv's, over epoll on
// Linux), and this server has run on it since the first stage, so the design stays. What is
// left is the bound. write() never refuses data: whatever the client has not read yet waits
// in this process's memory, so a client that sends and never reads makes it grow without end.
'use strict';

const net = require('node:net');
const { parseArgs, getSystemErrorMap } = require('node:util');

// Serves one client. When the client closes, Node ends our side by itself.
function serve(socket) {
  // Named now: once the client has reset, remoteAddress is undefined.
  const { remoteAddress, remotePort } = socket;
  const peer = remoteAddress ? hostPort(remoteAddress, remotePort) : 'a client';
  socket.on('data', (chunk) => {
    socket.write(chunk);
    // TODO(event-loop-server): write() returns false once the socket's queue is over its
    // limit (socket.writableHighWaterMark): the client is not reading fast enough.
    // Then socket.pause(): no more 'data' until resume(), so its bytes wait in the kernel,
    // whose buffers fill and make the client wait too. That is the backpressure. Resume on the
    // socket's 'drain' event, which comes when the queue has been written out.
  });
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
