#!/usr/bin/env node
// TCP echo server on Node's event loop: every client is served at once, by callbacks.
'use strict';

const net = require('node:net');
const { parseArgs, getSystemErrorMap } = require('node:util');

const PROG = 'echo_server';
const USAGE = `usage: ${PROG} [--host HOST] [--port PORT]
  --host HOST  address or name to listen on (default ::, which takes IPv4 too)
  --port PORT  port to listen on, 0 for any free one (default 2000)`;

function usage(problem) {
  console.error(`${PROG}: ${problem}\n${USAGE}`);
  process.exit(2);
}

// '[::1]:2000' or '127.0.0.1:2000': brackets keep an IPv6 address apart from its port.
const hostPort = (host, port) => (host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);

// The system's words ('address already in use') rather than Node's 'listen EADDRINUSE ...'.
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

// guide:echo begin
function echo(socket) {
  // remoteAddress is undefined when the client has reset before we got here.
  const { remoteAddress, remotePort } = socket;
  const peer = remoteAddress ? hostPort(remoteAddress, remotePort) : 'a client';
  socket.on('data', (chunk) => {
    // write() returning false means the client is not reading its echo fast enough: stop
    // reading from it until the queue drains, or its data would pile up in our memory.
    if (!socket.write(chunk)) socket.pause();
  });
  socket.on('drain', () => socket.resume());
  // The client half-closed. allowHalfOpen kept our side open; end() sends the FIN after
  // everything still queued.
  socket.on('end', () => socket.end());
  // guide:errors-reset begin
  // A reset or broken pipe ends this session only; Node destroys the socket after 'error'.
  socket.on('error', (err) => console.error(`${PROG}: ${peer}: ${reason(err)}`));
  // guide:errors-reset end
}
// guide:echo end

// guide:errors-port-in-use begin
// guide:errors-timeout begin
const { host, port } = parseOptions();
const server = net.createServer({ allowHalfOpen: true }, echo);
// guide:errors-timeout end

server.on('error', (err) => {
  console.error(`${PROG}: cannot listen on ${hostPort(host, port)}: ${reason(err)}`);
  process.exit(1);
});
// guide:errors-port-in-use end

// guide:listen begin
// ipv6Only false: on :: IPv4 clients arrive too, as ::ffff:a.b.c.d.
server.listen({ host, port, ipv6Only: false }, () => {
  const { address, port: bound } = server.address();
  console.log(`listening on ${hostPort(address, bound)}`);
});
// guide:listen end

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close(); // stop accepting; the open sessions end with the process
    process.exit(0);
  });
}
