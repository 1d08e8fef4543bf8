// Deliberately naive: the echo client as Node's net and readline documentation first show them,
// with no 'error' listener anywhere. Right for short lines to a healthy server; an 'error' event
// nobody listens for is thrown, and the process crashes (exit 1, "Unhandled 'error' event").
// Flaws, each marked NAIVE where it stands:
// - a refused connection or an unknown host crashes the process;
// - a write to a server that has gone crashes the process, or is dropped without a word;
// - lines are text: bytes that are not UTF-8 come back changed, and a lone CR ends a line.
// echo_client.js is the careful version.
'use strict';

const net = require('net');
const readline = require('readline');

const [host, port = '2000'] = process.argv.slice(2);

// NAIVE: no 'error' listener: refused or unknown host emits 'error', which Node throws.
const socket = net.createConnection(Number(port), host);
// NAIVE: readline decodes as UTF-8 (bytes that are not valid come back as U+FFFD) and ends a line
// at "\n", "\r\n" or a lone "\r", so such lines come back changed.
const echoes = readline.createInterface({ input: socket });
echoes.on('line', (echo) => console.log(`Echoed: '${echo}'`));

async function main() {
  for await (const line of readline.createInterface({ input: process.stdin })) {
    if (line === 'BYE') break;
    // NAIVE: a write to a server that has closed is not noticed here: it fails later as an 'error'
    // event nobody listens for (the process crashes), or, once the socket is gone, is dropped
    // without a word. Which of the two depends on which event the loop sees first.
    socket.write(`${line}\n`);
  }
  socket.end();
}

main();
