// line-client: the chapter's client, fixed: read stdin line by line, send each line with its
// newline, wait for the whole echo (however the stream splits it), print `Echoed: 'L'`; a line
// BYE (or BYE\r) ends the session without being sent; end of input closes and exits 0;
// failing to connect or losing the connection: one line on stderr, exit 1.
//
// Check your work from the lab's top folder:
//     python3 -m conformance check line-client path/to/this/folder
//
// Done for you: the command line, the connection, and turning an IOException thrown by
// echoLines() into one line on stderr and exit status 1.

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;

public class EchoClient {
    private static final String USAGE = "usage: java EchoClient HOST [PORT]";

    /** Sends each line of stdin and prints its echo, until BYE or the end of input. */
    static void echoLines(Socket server) throws IOException {
        // TODO(line-client): lines are bytes, not text (a Reader would decode them and change
        // some), so read System.in byte by byte up to "\n" into a ByteArrayOutputStream; the
        // last line may have no "\n", and no byte at all means the end of input: return. A
        // line "BYE" or "BYE\r" ends the session unsent: return. Send the line with "\n"
        // added (server.getOutputStream()), then wait for its whole echo: one read may bring
        // part of it, but readNBytes(n) on server.getInputStream() waits for all n bytes, or
        // returns fewer if the server closed: then throw an EOFException saying so. Print
        // Echoed: 'E' and "\n", E being the echo without its "\n", as bytes, to
        // new FileOutputStream(FileDescriptor.out) (System.out would encode text). If
        // System.console() != null (a terminal), print the prompt "Enter line:" first.
    }

    public static void main(String[] args) {
        boolean ok = (args.length == 1 || args.length == 2 && isPort(args[1]))
                && !args[0].isEmpty() && !args[0].startsWith("-");
        if (!ok) {
            System.err.println(USAGE);
            System.exit(2);
        }
        String host = args[0];
        int port = args.length == 2 ? Integer.parseInt(args[1]) : 2000;
        String where = host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
        Socket server;
        try {
            server = connect(host, port);
        } catch (IOException e) {
            System.err.println("EchoClient: cannot connect to " + where + ": " + e.getMessage());
            System.exit(1);
            return;
        }
        try (server) {
            echoLines(server);
        } catch (IOException e) {
            System.err.println("EchoClient: connection to " + where + " lost: " + e.getMessage());
            System.exit(1);
        }
    }

    /** Digits only, 0 to 65535: Integer.parseInt alone would also take "+80". */
    private static boolean isPort(String text) {
        return text.matches("[0-9]{1,5}") && Integer.parseInt(text) <= 65535;
    }

    /** Tries each address the host has (a name may have IPv6 and IPv4 ones) until one answers. */
    private static Socket connect(String host, int port) throws IOException {
        IOException failure = null;
        for (InetAddress address : InetAddress.getAllByName(host)) {
            try {
                return new Socket(address, port);
            } catch (IOException e) {
                failure = e;
            }
        }
        throw failure;
    }
}
