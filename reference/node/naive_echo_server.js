// Deliberately naive: the echo server as Node's net documentation first shows it, with no
// 'error' listener anywhere. Right for a healthy client; an 'error' event nobody listens for is
// thrown, and the process crashes (exit 1, "Unhandled 'error' event").
// Flaws, each marked NAIVE where it stands:
// - a failure to listen (port in use, bad host) crashes the process;
// - one client's reset (ECONNRESET) or broken pipe (EPIPE) crashes the whole server;
// - no signal handling: SIGTERM kills it.
// echo_server.js is the careful version.
'use strict';

const net = require('net');

const args = process.argv.slice(2);
const host = args.includes('--host') ? args[args.indexOf('--host') + 1] : '::';
const port = args.includes('--port') ? Number(args[args.indexOf('--port') + 1]) : 2000;

// NAIVE: no 'error' listener on the socket: a reset or a write to a vanished client emits 'error',
// which Node throws, and the whole server crashes.
const server = net.createServer((socket) => socket.pipe(socket));
// NAIVE: no 'error' listener on the server: a port in use crashes the process.
server.listen(port, host, () => {
  const { address, port: bound } = server.address();
  console.log(`listening on ${address.includes(':') ? `[${address}]` : address}:${bound}`);
});
// NAIVE: no signal handling: SIGTERM kills the process.
