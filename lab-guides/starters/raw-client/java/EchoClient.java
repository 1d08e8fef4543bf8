// raw-client: `--raw`: copy stdin to the socket and the socket to stdout at the same time,
// half-close at the end of stdin, exit 0 when the server has closed.
//
// Check your work from the lab's top folder:
//     python3 -m conformance check raw-client path/to/this/folder
//
// This is the line-client stage's solution with --raw parsed; yours: copyRaw(). An
// IOException thrown by it becomes one line on stderr and exit status 1.

import static java.nio.charset.StandardCharsets.ISO_8859_1;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.Arrays;

public class EchoClient {
    private static final String USAGE = "usage: java EchoClient [--raw] HOST [PORT]";

    /** Sends each line of stdin and prints its echo, until BYE or the end of input. */
    static void echoLines(Socket server) throws IOException {
        InputStream fromServer = server.getInputStream();
        OutputStream toServer = server.getOutputStream();
        OutputStream stdout = new FileOutputStream(FileDescriptor.out);
        // Java cannot ask whether stdin alone is a terminal; a console means both ends are.
        boolean prompt = System.console() != null;
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            if (prompt) {
                stdout.write("Enter line:".getBytes(ISO_8859_1));
            }
            line.reset();
            int b;
            while ((b = System.in.read()) != -1 && b != '\n') {
                line.write(b);
            }
            if (b == -1 && line.size() == 0) {
                return; // end of input
            }
            // ISO-8859-1 turns each byte into one char and back: nothing is changed.
            String text = line.toString(ISO_8859_1);
            if (text.equals("BYE") || text.equals("BYE\r")) {
                return;
            }
            line.write('\n');
            line.writeTo(toServer);
            // The echo may come back in pieces: wait for all of it, and no more.
            byte[] echo = fromServer.readNBytes(line.size());
            if (echo.length < line.size()) {
                throw new EOFException(
                        "the server closed the connection before the whole echo came back");
            }
            stdout.write("Echoed: '".getBytes(ISO_8859_1));
            stdout.write(echo, 0, echo.length - 1);
            stdout.write("'\n".getBytes(ISO_8859_1));
        }
    }

    /** --raw: copies stdin to the server and the echo to stdout, both at once. */
    static void copyRaw(Socket server) throws IOException {
        // TODO(raw-client): one thread cannot do both: a client that sends all of stdin
        // before it reads deadlocks once the data outgrows the socket buffers. So start a
        // thread that copies stdin to the socket (System.in.transferTo(...) to
        // server.getOutputStream()) and then half-closes: server.shutdownOutput() tells the
        // server we are done. Make it a daemon (setDaemon(true)), so that the program can end
        // while it still waits on stdin. Here, meanwhile, copy the socket to stdout
        // (transferTo a new FileOutputStream(FileDescriptor.out)) until the server closes,
        // then return: the program exits 0.
    }

    public static void main(String[] args) {
        boolean raw = args.length > 0 && args[0].equals("--raw");
        if (raw) {
            args = Arrays.copyOfRange(args, 1, args.length);
        }
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
            if (raw) {
                copyRaw(server);
            } else {
                echoLines(server);
            }
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
