// event-loop-server: one thread, non-blocking sockets and a readiness loop, with bounded
// buffers and backpressure.
//
// Check your work from the lab's top folder:
//     python3 -m conformance check event-loop-server path/to/this/folder
//
// Java's readiness API is NIO: a Selector says which channels are ready (over epoll, here).
// Done for you: the command line, the listening channel, the "listening on" line, SIGTERM,
// and the loop that accepts clients and calls pump() for each connection that is ready.
// Yours: pump().

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;

public class EchoServer {
    private static final String USAGE = "usage: java EchoServer [--host HOST] [--port PORT]";
    /** The most a connection holds for its client: bytes read, not yet sent back. */
    private static final int BUFFER_CAP = 16 * 1024;

    /** One client: its channel and what it sent that has not gone back yet. */
    static final class Connection {
        final SocketChannel channel;
        /** Filled from position 0: flip() it to write from it, then compact() it. */
        final ByteBuffer pending = ByteBuffer.allocate(BUFFER_CAP);
        /** read returned -1: the client has half-closed. */
        boolean clientDone;

        Connection(SocketChannel channel) {
            this.channel = channel;
        }

        /** Nothing more will come and nothing is owed: time to close. */
        boolean finished() {
            return clientDone && pending.position() == 0;
        }
    }

    /** Moves what it can between the client and its buffer; says what to wait for next. */
    static void pump(SelectionKey key) throws IOException {
        Connection c = (Connection) key.attachment();
        // TODO(event-loop-server): the channel is non-blocking: read and write take what they
        // can now and return at once.
        // - If the client is not done and c.pending has room (hasRemaining()), read into it:
        //   c.channel.read(c.pending) returns the count, 0 if nothing was waiting, or -1:
        //   the client is done.
        // - If c.pending holds bytes (position() > 0), write them: flip(), write, compact().
        //   A write may take some of them or none; the rest waits for the next turn.
        // - Then say what you wait for: key.interestOps(...) with SelectionKey.OP_READ only
        //   while the client is not done and c.pending has room (a full buffer stops the
        //   reading: that is the backpressure), and OP_WRITE only while c.pending holds
        //   bytes (asked for with nothing to write, it would wake the loop at once, forever).
        // - When c.finished(), send the FIN: c.channel.shutdownOutput(). The loop closes it.
        c.clientDone = true; // until then, each connection is closed at once, unechoed
    }

    public static void main(String[] args) {
        String host = "::";
        int port = 2000;
        for (int i = 0; i < args.length; i += 2) {
            String value = i + 1 < args.length ? args[i + 1] : null;
            if (args[i].equals("--host") && value != null && !value.isEmpty()) {
                host = value;
            } else if (args[i].equals("--port") && value != null && isPort(value)) {
                port = Integer.parseInt(value);
            } else {
                System.err.println(USAGE);
                System.exit(2);
            }
        }
        ServerSocketChannel listener = listen(host, port);
        // The JVM answers SIGTERM and SIGINT by running its shutdown hooks, then exiting with
        // 143 or 130; halting from a hook makes a requested stop exit 0. It is added once
        // listening, so the exits before keep their status.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> Runtime.getRuntime().halt(0)));
        try {
            run(listener);
        } catch (IOException e) {
            System.err.println("EchoServer: " + e.getMessage());
            Runtime.getRuntime().halt(1); // not System.exit: the hook above would make it 0
        }
    }

    /** The readiness loop: wait until channels are ready, serve them, repeat. */
    private static void run(ServerSocketChannel listener) throws IOException {
        Selector selector = Selector.open();
        listener.configureBlocking(false);
        listener.register(selector, SelectionKey.OP_ACCEPT);
        while (true) {
            selector.select();
            for (SelectionKey key : selector.selectedKeys()) {
                if (key.isAcceptable()) {
                    acceptAll(listener, selector);
                    continue;
                }
                Connection c = (Connection) key.attachment();
                try {
                    pump(key);
                    if (c.finished()) {
                        c.channel.close(); // which also tells the selector to forget it
                    }
                } catch (IOException e) {
                    // A reset ends this session only.
                    System.err.println("EchoServer: session ended: " + e.getMessage());
                    close(c.channel);
                }
            }
            selector.selectedKeys().clear();
        }
    }

    /** Accepts every client waiting; each starts out waiting to read. */
    private static void acceptAll(ServerSocketChannel listener, Selector selector) {
        while (true) {
            SocketChannel channel;
            try {
                channel = listener.accept();
            } catch (IOException e) {
                // Out of file descriptors, say. The selector would report the waiting client
                // again at once: pause rather than spin.
                System.err.println("EchoServer: accept: " + e.getMessage());
                pause(100);
                return;
            }
            if (channel == null) {
                return; // nobody else is waiting
            }
            try {
                channel.configureBlocking(false);
                channel.register(selector, SelectionKey.OP_READ, new Connection(channel));
            } catch (IOException e) {
                System.err.println("EchoServer: cannot watch a client: " + e.getMessage());
                close(channel);
            }
        }
    }

    private static void close(SocketChannel channel) {
        try {
            channel.close();
        } catch (IOException e) {
            System.err.println("EchoServer: close: " + e.getMessage());
        }
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Digits only, 0 to 65535: Integer.parseInt alone would also take "+80". */
    private static boolean isPort(String text) {
        return text.matches("[0-9]{1,5}") && Integer.parseInt(text) <= 65535;
    }

    /** Listens and prints the readiness line the harness waits for; exits 1 if it cannot. */
    private static ServerSocketChannel listen(String host, int port) {
        try {
            ServerSocketChannel listener = ServerSocketChannel.open();
            listener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
            // Java clears IPV6_V6ONLY itself, so "::" takes IPv4 clients too (as
            // ::ffff:a.b.c.d). A deep accept queue (Linux caps it) keeps a burst of clients
            // from being refused.
            listener.bind(new InetSocketAddress(InetAddress.getByName(host), port), 4096);
            InetSocketAddress bound = (InetSocketAddress) listener.getLocalAddress();
            System.out.println("listening on " + shown(bound.getAddress()) + ":" + bound.getPort());
            System.out.flush();
            return listener;
        } catch (IOException e) {
            String where = host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
            System.err.println("EchoServer: cannot listen on " + where + ": " + e.getMessage());
            System.exit(1);
            return null;
        }
    }

    /** An address as the readiness line shows it: IPv6 in brackets and short, as in [::]. */
    private static String shown(InetAddress address) {
        // Java writes IPv6 in full (0:0:0:0:0:0:0:0): shorten the first run of zero groups.
        String text = address.getHostAddress();
        return address instanceof Inet6Address
                ? "[" + text.replaceFirst("(^|:)(0(:|$)){2,}", "::") + "]"
                : text;
    }
}
