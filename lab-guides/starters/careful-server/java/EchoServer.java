// careful-server: every byte, whatever the network does: loop on short writes, finish the echo
// after the client's half-close and then close (FIN, never RST), survive a client's reset,
// serve IPv4 and IPv6 clients on ::.
//
// Check your work from the lab's top folder:
//     python3 -m conformance check careful-server path/to/this/folder
//
// This is the echo-server stage's solution; the TODO(careful-server) blocks say what to make
// careful. Java does some of it for you: OutputStream.write sends every byte before it
// returns (no short writes to loop on), the JVM retries a call a signal interrupted, and it
// ignores SIGPIPE. The launch contract (the command line, the dual-stack listening socket,
// the "listening on" line, SIGTERM) is done.

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

public class EchoServer {
    private static final String USAGE = "usage: java EchoServer [--host HOST] [--port PORT]";

    /** Sends every byte the client sends straight back to it, until it closes. */
    static void serve(Socket client) throws IOException {
        InputStream in = client.getInputStream();
        OutputStream out = client.getOutputStream();
        byte[] buffer = new byte[8192];
        // Whatever has arrived, a line or not; -1 means the client has closed.
        for (int n; (n = in.read(buffer)) != -1; ) {
            out.write(buffer, 0, n);
        }
        // TODO(careful-server): read returned -1: the client has half-closed. It sends no
        // more but may still be reading, and everything owed has been written by now, so
        // send your FIN explicitly: client.shutdownOutput(). (The accept loop's close
        // follows.)
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
        ServerSocket listener = listen(host, port);
        // The JVM answers SIGTERM and SIGINT by running its shutdown hooks, then exiting with
        // 143 or 130; halting from a hook makes a requested stop exit 0. It is added once
        // listening, so the exits before keep their status.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> Runtime.getRuntime().halt(0)));

        // One client at a time: the next one is accepted when serve returns.
        try {
            while (true) {
                try (Socket client = listener.accept()) {
                    serve(client);
                }
            }
        } catch (IOException e) {
            // TODO(careful-server): for now any error ends the server, and a client that
            // resets its connection is enough (read or write throws an IOException). Catch
            // it around each session instead: it ends that session only (print it to stderr;
            // try-with-resources still closes the socket), and the loop goes on. An
            // IOException from accept (out of file descriptors, say) is printed too, then
            // Thread.sleep(100) so as not to spin on it, and the loop goes on. Then this
            // catch, and the halt, can go.
            System.err.println("EchoServer: " + e.getMessage());
            Runtime.getRuntime().halt(1); // not System.exit: the hook above would make it 0
        }
    }

    /** Digits only, 0 to 65535: Integer.parseInt alone would also take "+80". */
    private static boolean isPort(String text) {
        return text.matches("[0-9]{1,5}") && Integer.parseInt(text) <= 65535;
    }

    /** Listens and prints the readiness line the harness waits for; exits 1 if it cannot. */
    private static ServerSocket listen(String host, int port) {
        try {
            ServerSocket listener = new ServerSocket();
            listener.setReuseAddress(true);
            // Java clears IPV6_V6ONLY itself, so "::" takes IPv4 clients too (as
            // ::ffff:a.b.c.d). A deep accept queue (Linux caps it) keeps a burst of clients
            // from being refused.
            listener.bind(new InetSocketAddress(InetAddress.getByName(host), port), 4096);
            String address = shown(listener.getInetAddress());
            System.out.println("listening on " + address + ":" + listener.getLocalPort());
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
