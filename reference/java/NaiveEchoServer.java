import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;

/**
 * Deliberately naive: the echo server as a Java tutorial first shows it, with main declaring
 * {@code throws IOException} and nothing caught. Right for a healthy client; every error is a
 * stack trace that ends the whole server (exit 1). Flaws, each marked NAIVE where it stands:
 * a failure to listen is a stack trace; one client at a time; a client's reset or a failed
 * accept is a stack trace that ends the server; no signal handling. EchoServer is the careful
 * version.
 */
public class NaiveEchoServer {
    // NAIVE: checked exceptions must be caught or declared, and declaring them is all this does:
    // whatever goes wrong leaves main as a stack trace, and the server is gone.
    public static void main(String[] args) throws IOException {
        String host = "::";
        int port = 2000;
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (args[i].equals("--host")) host = args[i + 1];
            if (args[i].equals("--port")) port = Integer.parseInt(args[i + 1]);
        }
        // NAIVE: a port in use or an unknown host throws out of main: a stack trace.
        ServerSocket server = new ServerSocket(port, 50, InetAddress.getByName(host));
        String address = server.getInetAddress().getHostAddress();
        System.out.println("listening on " + (address.contains(":") ? "[" + address + "]" : address)
                + ":" + server.getLocalPort());
        // NAIVE: no signal handling: SIGTERM ends the JVM with status 143, not 0.
        while (true) {
            // NAIVE: one client at a time; the others wait in the backlog. And accept failing (out
            // of descriptors) throws out of main.
            Socket client = server.accept();
            // NAIVE: a reset (SocketException) throws out of main: one client ends the server.
            client.getInputStream().transferTo(client.getOutputStream());
            client.close();
        }
    }
}
