// echo-server: echo one client at a time: accept a connection, send back every byte it sends,
// as soon as it arrives, until it closes; then serve the next.
//
// Check your work from the lab's top folder:
//     python3 -m conformance check echo-server path/to/this/folder
//
// All but serve() is done for you: the command line, the listening socket, the "listening on"
// line and stopping on SIGTERM or Ctrl-C.

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
        // TODO(echo-server): loop: read what has arrived into a buffer (in.read(buffer), with
        // in = client.getInputStream() and byte[] buffer = new byte[8192]), then write those
        // n bytes back (out.write(buffer, 0, n), out = client.getOutputStream()). read
        // returning -1 means the client has closed: return. Send back whatever one read gave
        // you, at once: never wait for a newline. (The accept loop closes the socket after.)
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
            // For now any error, a client's included, ends the server.
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
