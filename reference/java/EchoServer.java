import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.function.Consumer;

/**
 * Iterative echo server: one client at a time. Bytes, not lines: whatever arrives goes
 * straight back. An error ends the session it happened in, never the server.
 */
public class EchoServer {
    private static final String PROGRAM = "EchoServer";
    // The accept queue's length: Linux caps it at net.core.somaxconn (4096). With a short one
    // (ServerSocket's default is 50), a burst of clients overflows it and is reset.
    private static final int BACKLOG = 4096;

    public static void main(String[] args) {
        run(PROGRAM, args, client -> serve(PROGRAM, client));
    }

    /**
     * Listens as the options say, announces it, then gives every accepted client to the
     * handler. Exits 2 on bad options and 1 if it cannot listen.
     */
    static void run(String program, String[] args, Consumer<Socket> handler) {
        Lab.ServerOptions options = Lab.serverOptions(program, args);
        // guide:errors-port-in-use begin
        ServerSocket listener;
        try {
            // On Linux a socket bound to "::" is dual stack: IPv4 clients arrive as ::ffff:a.b.c.d.
            listener = new ServerSocket(options.port(), BACKLOG, InetAddress.getByName(options.host()));
        } catch (IOException e) {
            System.err.println(program + ": cannot listen on "
                    + Lab.hostPort(options.host(), options.port()) + ": " + Lab.reason(e));
            System.exit(1);
            return;
        }
        // guide:errors-port-in-use end

        // The JVM answers SIGTERM and SIGINT by running its shutdown hooks and then exiting
        // with 143 or 130; halting from a hook makes a requested stop exit 0 instead.
        Runtime.getRuntime().addShutdownHook(new Thread(() -> Runtime.getRuntime().halt(0)));

        System.out.println("listening on " + Lab.hostPort(listener.getInetAddress(), listener.getLocalPort()));
        System.out.flush();

        while (true) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                // Say, out of file descriptors: this connection is lost, the server goes on. It
                // pauses first: the waiting client makes the next accept fail at once, a busy loop.
                System.err.println(program + ": accept failed: " + e.getMessage());
                try {
                    Thread.sleep(100);
                } catch (InterruptedException stop) {
                    return;
                }
                continue;
            }
            handler.accept(client);
        }
    }

    // guide:serve begin
    /** Echoes until the client half-closes, then closes: the FIN follows the last byte owed. */
    static void serve(String program, Socket client) {
        String peer = Lab.hostPort(client.getInetAddress(), client.getPort());
        try (client) {
            // Each echo is a reply: send it at once. With Nagle's algorithm on, a partial
            // segment waits for the client's delayed ACK, up to 40 ms per echo.
            client.setTcpNoDelay(true);
            InputStream in = client.getInputStream();
            OutputStream out = client.getOutputStream();
            byte[] buffer = new byte[8192];
            // One read may return part of a line or several lines; either way it all goes back.
            for (int n; (n = in.read(buffer)) != -1; ) {
                out.write(buffer, 0, n);
            }
        // guide:errors-reset begin
        } catch (IOException e) {
            // A reset or a vanished client ends this session; the server carries on.
            System.err.println(program + ": session with " + peer + " ended: " + e.getMessage());
        }
        // guide:errors-reset end
    }
    // guide:serve end
}
