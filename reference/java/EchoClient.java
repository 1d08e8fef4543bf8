import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.BufferedOutputStream;
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

/**
 * The chapter's echo client, byte exact: lines are bytes, never decoded, and the whole echo
 * is read back before it is printed. With --raw it copies stdin and the socket both ways at once.
 */
public class EchoClient {
    private static final String PROGRAM = "EchoClient";
    private static final byte[] BYE = "BYE".getBytes(US_ASCII);
    private static final byte[] BYE_CR = "BYE\r".getBytes(US_ASCII);
    private static final byte[] PROMPT = "Enter line:".getBytes(US_ASCII);
    private static final byte[] ECHOED = "Echoed: '".getBytes(US_ASCII);
    private static final byte[] END_QUOTE = "'\n".getBytes(US_ASCII);

    public static void main(String[] args) {
        Lab.ClientOptions options = Lab.clientOptions(PROGRAM, args);
        System.exit(run(options));
    }

    private static int run(Lab.ClientOptions options) {
        // guide:errors-refused begin
        // guide:errors-unknown-host begin
        String where = Lab.hostPort(options.host(), options.port());
        Socket server;
        try {
            server = connect(options.host(), options.port());
        } catch (IOException e) {
            return fail("cannot connect to " + where + ": " + Lab.reason(e));
        }
        // guide:errors-refused end
        // guide:errors-unknown-host end
        // guide:errors-reset begin
        try (server) {
            if (options.raw()) {
                copyBothWays(server);
            } else {
                echoLines(server);
            }
            return 0;
        } catch (IOException e) {
            return fail("connection to " + where + " lost: " + e.getMessage());
        }
        // guide:errors-reset end
    }

    /** Tries each address the host resolves to, as a name may have both IPv4 and IPv6 ones. */
    private static Socket connect(String host, int port) throws IOException {
        IOException last = null;
        for (InetAddress address : InetAddress.getAllByName(host)) {
            try {
                return new Socket(address, port);
            } catch (IOException e) {
                last = e;
            }
        }
        throw last;
    }

    private static void echoLines(Socket server) throws IOException {
        InputStream fromServer = server.getInputStream();
        OutputStream toServer = server.getOutputStream();
        OutputStream stdout = new BufferedOutputStream(new FileOutputStream(FileDescriptor.out));
        // Java 17 cannot ask whether stdin alone is a terminal; a console means stdin and stdout both are.
        boolean interactive = System.console() != null;
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            if (interactive) {
                stdout.write(PROMPT);
                stdout.flush();
            }
            line.reset();
            if (!readLine(System.in, line)) {
                return;
            }
            byte[] text = line.toByteArray();
            if (Arrays.equals(text, BYE) || Arrays.equals(text, BYE_CR)) {
                return;
            }
            line.write('\n');
            // guide:errors-host-vanishes begin
            line.writeTo(toServer);
            // guide:errors-peer-closes begin
            // The echo may come back in pieces: wait for all of it, and no more.
            byte[] echo = fromServer.readNBytes(line.size());
            if (echo.length < line.size()) {
                throw new EOFException("the server closed the connection mid-echo");
            }
            // guide:errors-peer-closes end
            // guide:errors-host-vanishes end
            stdout.write(ECHOED);
            stdout.write(echo, 0, echo.length - 1);
            stdout.write(END_QUOTE);
            stdout.flush();
        }
    }

    /** Appends the bytes before the next \n; false if input ended before a single byte. */
    private static boolean readLine(InputStream in, ByteArrayOutputStream line) throws IOException {
        int b;
        while ((b = in.read()) != -1 && b != '\n') {
            line.write(b);
        }
        return b == '\n' || line.size() > 0;
    }

    private static void copyBothWays(Socket server) throws IOException {
        OutputStream toServer = server.getOutputStream();
        // Sending runs on its own thread so that the echo is read while we write: a client that
        // sent everything first would deadlock once the data outgrew the sockets' buffers.
        Thread sender = new Thread(() -> {
            try {
                System.in.transferTo(toServer);
                server.shutdownOutput();
            } catch (IOException e) {
                // The server stopped reading; the receiving side below reports how it ended.
            }
        });
        // Once the server has closed, the client is done even if stdin is still open.
        sender.setDaemon(true);
        sender.start();
        server.getInputStream().transferTo(new FileOutputStream(FileDescriptor.out));
    }

    private static int fail(String message) {
        System.err.println(PROGRAM + ": " + message);
        return 1;
    }
}
